/// Stops with `message` when `condition` is false.
///
/// Unlike `precondition`, the message is printed in optimised builds too, and it is built
/// only on failure, so checks cost one branch on the hot path.
@inlinable @inline(__always)
public func tensorCheck(_ condition: Bool, _ message: @autoclosure () -> String,
                        file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition) { tensorFailure(message(), file: file, line: line) }
}

/// Stops with `message` (a programmer error: shapes, dtypes, devices), naming where it was raised.
@inline(never)
public func tensorFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message, file: file, line: line)
}

/// `[2, 3]` — how shapes appear in messages.
@inlinable public func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
