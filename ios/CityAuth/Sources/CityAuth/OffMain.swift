import Foundation

/// Every call into the Rust core blocks (SQLite, Argon2id, the network), so the async APIs run
/// them here, never on the caller's thread. Concurrent: the core's objects are thread-safe.
let coreQueue = DispatchQueue(label: "city.cityauth.core", qos: .userInitiated, attributes: .concurrent)

/// Runs a blocking core call on `coreQueue` and resumes with its result or its error.
func offMain<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        coreQueue.async {
            continuation.resume(with: Result { try work() })
        }
    }
}
