import Testing

/// Every suite of the tools' tests, one at a time: the commands draw from the process-wide
/// random stream (and the resume tests compare its position), so they must not interleave.
@Suite(.serialized)
struct CommandTests {}
