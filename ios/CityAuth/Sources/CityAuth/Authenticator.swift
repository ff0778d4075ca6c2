import CityAuthFFI
import Foundation

/// The vault as an app uses it: async versions of the core's blocking calls, a stream of
/// codes each second, and the City account approvals. Thread-safe; share one per vault file.
public final class Authenticator: Sendable {
    /// The generated object, for calls the wrapper does not cover.
    public let vault: Vault

    private init(vault: Vault) {
        self.vault = vault
    }

    /// Creates a vault file at `url` protected by `passphrase`, unlocked. `kdf` nil: the
    /// default Argon2id cost (about a second). Throws `CityAuthError.AlreadyExists` if a file is there.
    public static func create(at url: URL, passphrase: String, kdf: KdfSettings? = nil) async throws -> Authenticator {
        let vault = try await offMain { try Vault.create(path: url.path, passphrase: passphrase, kdf: kdf) }
        return Authenticator(vault: vault)
    }

    /// Opens an existing vault, locked. Throws `CityAuthError.NotFound` when there is none.
    public static func open(at url: URL) async throws -> Authenticator {
        let vault = try await offMain { try Vault.open(path: url.path) }
        return Authenticator(vault: vault)
    }

    /// Unlocks with the passphrase; `CityAuthError.WrongPassphrase` changes nothing.
    public func unlock(passphrase: String) async throws {
        try await offMain { [vault] in try vault.unlockWithPassphrase(passphrase: passphrase) }
    }

    /// Unlocks through the device key (Keychain / Secure Enclave) of a slot added earlier.
    public func unlock(keyWrapper: HostKeyWrapper) async throws {
        try await offMain { [vault] in try vault.unlockWithKeyWrapper(wrapper: keyWrapper) }
    }

    /// Adds a slot so that `keyWrapper` unlocks the vault without the passphrase.
    @discardableResult
    public func addSlot(keyWrapper: HostKeyWrapper) async throws -> Int64 {
        try await offMain { [vault] in try vault.addKeyWrapperSlot(wrapper: keyWrapper) }
    }

    /// Replaces the passphrase and re-encrypts every account under a new key (an old copy of
    /// the file with the old passphrase opens nothing). The device-key slots of `keeping` are
    /// re-wrapped; any other device-key slot is removed, since it holds the old key.
    public func changePassphrase(
        to passphrase: String, kdf: KdfSettings? = nil, keeping: [HostKeyWrapper] = []
    ) async throws {
        try await offMain { [vault] in
            try vault.changePassphraseKeeping(newPassphrase: passphrase, kdf: kdf, keep: keeping)
        }
    }

    /// The ways this vault unlocks (passphrase, device keys).
    public func slots() async throws -> [SlotInfo] {
        try await offMain { [vault] in try vault.slots() }
    }

    /// Removes an unlock slot; the last one cannot go (`CityAuthError.InvalidInput`).
    public func removeSlot(_ id: Int64) async throws {
        try await offMain { [vault] in try vault.removeSlot(slotId: id) }
    }

    /// Forgets the keys and the decrypted accounts (the app lock and backgrounding call it).
    /// Throws only if the library failed inside (a caught panic).
    public func lock() throws {
        try vault.lock()
    }

    /// True between an unlock and `lock()` (false if the library failed inside).
    public var isUnlocked: Bool {
        (try? vault.isUnlocked()) ?? false
    }

    /// Adds the account of a scanned `otpauth://` link; `CityAuthError.InvalidLink` names the field.
    @discardableResult
    public func addAccount(link: String) async throws -> Int64 {
        try await offMain { [vault] in try vault.addFromLink(link: link) }
    }

    /// Adds an account typed in by hand; `CityAuthError.InvalidInput` names the field.
    @discardableResult
    public func addAccount(_ account: NewAccount) async throws -> Int64 {
        try await offMain { [vault] in try vault.addAccount(account: account) }
    }

    /// The accounts in the user's order, without secrets.
    public func accounts() async throws -> [AccountInfo] {
        try await offMain { [vault] in try vault.accounts() }
    }

    /// Changes an account's labels.
    public func rename(account id: Int64, issuer: String, name: String) async throws {
        try await offMain { [vault] in try vault.rename(id: id, issuer: issuer, name: name) }
    }

    /// Moves an account to `position` (0 is the top).
    public func move(account id: Int64, to position: UInt32) async throws {
        try await offMain { [vault] in try vault.moveAccount(id: id, position: position) }
    }

    /// Deletes an account for good.
    public func remove(account id: Int64) async throws {
        try await offMain { [vault] in try vault.remove(id: id) }
    }

    /// Every time-based code now (server-corrected clock), in one call for the whole screen.
    public func codes() async throws -> [AccountCode] {
        try await offMain { [vault] in try vault.codes() }
    }

    /// Every time-based code at a Unix time, e.g. to check a test vector.
    public func codes(at unixSeconds: UInt64) async throws -> [AccountCode] {
        try await offMain { [vault] in try vault.codesAt(unixSeconds: unixSeconds) }
    }

    /// The next HOTP code; the counter is on disk before the code is returned.
    public func nextHotp(account id: Int64) async throws -> String {
        try await offMain { [vault] in try vault.nextHotp(id: id) }
    }

    /// Damaged records as readable lines; empty when the vault is whole.
    public func integrityProblems() async throws -> [String] {
        try await offMain { [vault] in try vault.integrityProblems() }
    }

    /// This device's City account enrollment, if any.
    public func enrollment() async throws -> EnrollmentInfo? {
        try await offMain { [vault] in try vault.enrollment() }
    }

    /// Forgets this device's City enrollment here only, without the server (gone,
    /// unreachable or refusing); the City account's codes stay. The portal can still remove
    /// the device.
    public func forgetEnrollment() async throws {
        try await offMain { [vault] in try vault.forgetEnrollment() }
    }

    /// Reads another authenticator's export (or a cityauth backup) and sets it against this
    /// vault, writing nothing: show the result's `report`, then `commit()` it. `format` nil
    /// detects it ("aegis", "2fas", "andotp", "bitwarden-json", "bitwarden-csv",
    /// "freeotp-plus", "proton", "links", "cityauth"). Throws `CityAuthError.PasswordRequired`
    /// for an encrypted file without `password` (ask, call again), `.WrongPassword`,
    /// `.DamagedFile`, `.UnknownFormat`, `.UnsupportedFile`, `.MissingBatchParts`.
    public func previewImport(_ data: Data, format: String? = nil, password: String? = nil) async throws -> AccountImport {
        try await offMain { [vault] in
            let preview = try vault.previewImport(bytes: data, format: format, password: password)
            return AccountImport(preview: preview, report: try preview.report())
        }
    }

    /// A restore: `previewImport` of a cityauth backup made by `backup(passphrase:)`.
    public func previewRestore(_ data: Data, passphrase: String) async throws -> AccountImport {
        try await previewImport(data, format: "cityauth", password: passphrase)
    }

    /// Every account as a cityauth backup encrypted under `passphrase` (Argon2id, about a
    /// second). Accounts only: never the push-approval key nor the City enrollment.
    public func backup(passphrase: String) async throws -> Data {
        try await offMain { [vault] in try vault.backup(passphrase: passphrase) }
    }

    /// Every account as an otpauth link, one a line. NOT encrypted: the text holds every
    /// secret; keep it out of logs and shared storage, and prefer `backup` for a copy to keep.
    public func exportLinks() async throws -> String {
        try await offMain { [vault] in try vault.exportLinks() }
    }

    /// Google Authenticator migration links (one QR code each) and, apart, the accounts
    /// Google Authenticator cannot hold (show them: they are not in the links). NOT encrypted.
    public func exportGoogleLinks() async throws -> GoogleExport {
        try await offMain { [vault] in try vault.exportGoogleLinks() }
    }

    /// All codes now, then again at the start of every second until the consumer stops
    /// iterating; ends with the error if a call fails (e.g. the vault was locked).
    public func codeUpdates() -> AsyncThrowingStream<[AccountCode], Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    while !Task.isCancelled {
                        continuation.yield(try await self.codes())
                        try await Task.sleep(nanoseconds: nanosecondsToNextSecond())
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Enrollment and approvals for this vault's City account, over `URLSession` (the
    /// platform's trust store, MDM CAs and proxies; redirects refused). With `signer` (a key
    /// in the Secure Enclave), a new enrollment uses that key and the vault keeps only its
    /// public half; without it, the vault's own software key. A device enrolled with a
    /// signer needs the same signer afterwards (`CityAuthError.KeyStore` otherwise).
    public func approvals(signer: HostDeviceSigner? = nil) async throws -> CityApprovals {
        let approvals = try await offMain { [vault] in
            if let signer {
                return try Approvals.withDeviceSigner(vault: vault, transport: URLSessionTransport(), signer: signer)
            } else {
                return try Approvals.withTransport(vault: vault, transport: URLSessionTransport())
            }
        }
        return CityApprovals(approvals: approvals)
    }
}

/// Time until the next whole second, so the countdown ticks when the codes change.
func nanosecondsToNextSecond(now: Date = Date()) -> UInt64 {
    let fraction = now.timeIntervalSince1970.truncatingRemainder(dividingBy: 1)
    return UInt64((1 - fraction) * 1_000_000_000) + 1_000_000
}
