import TesseraCLI
#if canImport(Glibc)
import Glibc
#endif

exit(TesseraMain.run(Array(CommandLine.arguments.dropFirst())))
