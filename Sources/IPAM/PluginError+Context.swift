import CNI

extension PluginError {
    /// The same error with "`context`: " in front, so a range error says which set and range.
    func prefixed(_ context: String) -> PluginError {
        PluginError(kind, "\(context): \(message)", details: details)
    }
}

/// Runs `body`, putting `context` in front of any `PluginError` it throws.
func withContext<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PluginError {
        throw error.prefixed(context)
    }
}
