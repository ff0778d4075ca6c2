import Foundation

/// The app's own preferences (not secrets): stored in UserDefaults.
final class AppSettings {
    private let defaults = UserDefaults.standard

    /// Lock the vault whenever the app leaves the screen.
    var appLock: Bool {
        get { defaults.object(forKey: "appLock") as? Bool ?? true }
        set { defaults.set(newValue, forKey: "appLock") }
    }

    /// A Keychain / Secure Enclave slot exists and is tried at start.
    var deviceKeyUnlock: Bool {
        get { defaults.bool(forKey: "deviceKeyUnlock") }
        set { defaults.set(newValue, forKey: "deviceKeyUnlock") }
    }

    /// The (encrypted) vault file goes into iCloud / Finder backups.
    var includeInBackup: Bool {
        get { defaults.object(forKey: "includeInBackup") as? Bool ?? true }
        set { defaults.set(newValue, forKey: "includeInBackup") }
    }
}

/// The backup setting is the vault folder's own flag: iOS skips what is marked excluded
/// (the folder, so SQLite's journal files follow the vault file).
enum BackupPolicy {
    static func apply(includeInBackup: Bool, to url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        var values = URLResourceValues()
        values.isExcludedFromBackup = !includeInBackup
        var file = url
        try file.setResourceValues(values)
    }
}
