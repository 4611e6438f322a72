import TesseraCLI
#if canImport(Glibc)
import Glibc
#endif

// Line-buffered stdout, so progress lines appear as they happen when piped to a log.
setvbuf(stdout, nil, _IOLBF, 0)
exit(TesseraMain.run(Array(CommandLine.arguments.dropFirst())))
