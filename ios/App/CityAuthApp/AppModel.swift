import CityAuth
import CityAuthFFI
import Foundation
import os
import SwiftUI
import UIKit

/// The app's state over one `Authenticator`. Behaviour lives in the core; this only sequences
/// calls, keeps what the screens show, and turns errors into messages in the user's language
/// (`localizedMessage(for:)`).
@MainActor
final class AppModel: ObservableObject {
    enum Phase: Equatable {
        case starting, noVault, locked, unlocked
    }

    @Published private(set) var phase: Phase = .starting
    @Published private(set) var rows: [CodeRow] = []
    @Published private(set) var pending: [Challenge] = []
    @Published private(set) var enrollment: EnrollmentInfo?
    @Published private(set) var hotpCodes: [Int64: String] = [:]
    @Published var message: String?

    let settings = AppSettings()
    /// The APNs token in hex, sent to the server at enrollment.
    var pushToken: String?

    private var authenticator: Authenticator?
    private var accounts: [AccountInfo] = []
    private var codesTask: Task<Void, Never>?
    /// A push arrived while the vault was locked: fetch once it is unlocked.
    private var wakePending = false
    private let keyWrapper = KeychainKeyWrapper()
    /// The device key that signs for the City account, in the Secure Enclave.
    private let deviceSigner = SecureEnclaveDeviceSigner()
    private static let log = Logger(subsystem: "city.cityauth.app", category: "errors")

    /// The vault's folder in Application Support (the file and SQLite's journal files).
    static let vaultFolder: URL = {
        let folder = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("cityauth", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// The vault file.
    static let vaultURL = vaultFolder.appendingPathComponent("vault.sqlite")

    func start() async {
        guard FileManager.default.fileExists(atPath: Self.vaultURL.path) else {
            phase = .noVault
            return
        }
        await perform {
            self.authenticator = try await Authenticator.open(at: Self.vaultURL)
            self.phase = .locked
        }
        if settings.deviceKeyUnlock {
            await unlockWithDeviceKey()
        }
    }

    func create(passphrase: String) async {
        await perform {
            let vault = try await Authenticator.create(at: Self.vaultURL, passphrase: passphrase)
            self.authenticator = vault
            try BackupPolicy.apply(includeInBackup: self.settings.includeInBackup, to: Self.vaultFolder)
            await self.didUnlock()
        }
    }

    func unlock(passphrase: String) async {
        await perform {
            try await self.vault().unlock(passphrase: passphrase)
            await self.didUnlock()
        }
    }

    /// Face ID / passcode through the Keychain key; the system shows the prompt.
    func unlockWithDeviceKey() async {
        await perform {
            try await self.vault().unlock(keyWrapper: self.keyWrapper)
            await self.didUnlock()
        }
    }

    func lock() {
        codesTask?.cancel()
        codesTask = nil
        // Fails only if the library failed inside; the screen locks either way.
        try? authenticator?.lock()
        rows = []
        hotpCodes = [:]
        pending = []
        if authenticator != nil {
            phase = .locked
        }
    }

    /// The app lock: leaving the app locks the vault when the setting is on.
    func sceneChanged(to phase: ScenePhase) {
        if phase == .background && settings.appLock {
            lock()
        }
    }

    /// A scanned or pasted link: an enrollment link enrolls, anything else adds an account.
    func handleScanned(_ link: String) async -> Bool {
        if link.lowercased().hasPrefix("cityauth://enroll") {
            return await enroll(link: link)
        }
        return await perform {
            try await self.vault().addAccount(link: link)
            await self.reloadAccounts()
        }
    }

    func add(_ account: NewAccount) async -> Bool {
        await perform {
            try await self.vault().addAccount(account)
            await self.reloadAccounts()
        }
    }

    func remove(_ id: Int64) async {
        await perform {
            try await self.vault().remove(account: id)
            await self.reloadAccounts()
        }
    }

    func move(_ id: Int64, to position: Int) async {
        await perform {
            try await self.vault().move(account: id, to: UInt32(clamping: position))
            await self.reloadAccounts()
        }
    }

    func nextHotp(_ id: Int64) async {
        await perform {
            self.hotpCodes[id] = try await self.vault().nextHotp(account: id)
        }
    }

    /// Called by the push delegate: the push says only "look", the core fetches and verifies.
    func wake() async {
        guard phase == .unlocked else {
            wakePending = true
            return
        }
        await perform {
            guard try await self.vault().enrollment() != nil else { return }
            self.pending = try await self.vault().approvals(signer: self.deviceSigner).pending(waitSeconds: 0)
        }
    }

    func answer(_ challenge: Challenge, with answer: Answer, number: String?) async -> String? {
        var outcome: String?
        await perform {
            outcome = try await self.vault().approvals(signer: self.deviceSigner).answer(challenge, with: answer, number: number)
            self.pending.removeAll { $0.id == challenge.id }
        }
        return outcome
    }

    func enroll(link: String) async -> Bool {
        await perform {
            let approvals = try await self.vault().approvals(signer: self.deviceSigner)
            let enrolled = try await approvals.enroll(
                link: link, deviceName: UIDevice.current.name, pushToken: self.pushToken)
            self.message = formatted(
                String(localized: "message.registered"), enrolled.displayName, enrolled.username)
            self.enrollment = try await self.vault().enrollment()
            await self.reloadAccounts()
        }
    }

    func unenroll() async {
        await perform {
            try await self.vault().approvals(signer: self.deviceSigner).unenroll()
            self.deviceSigner.deleteKey()
            self.enrollment = nil
        }
    }

    func setDeviceKeyUnlock(_ on: Bool) async {
        await perform {
            let vault = try self.vault()
            if on {
                try await vault.addSlot(keyWrapper: self.keyWrapper)
            } else {
                for slot in try await vault.slots() where slot.keyId == self.keyWrapper.keyId() {
                    try await vault.removeSlot(slot.id)
                }
                self.keyWrapper.deleteKey()
            }
            self.settings.deviceKeyUnlock = on
        }
    }

    func setIncludeInBackup(_ on: Bool) {
        do {
            try BackupPolicy.apply(includeInBackup: on, to: Self.vaultFolder)
            settings.includeInBackup = on
        } catch {
            show(error)
        }
    }

    func changePassphrase(_ passphrase: String) async -> Bool {
        await perform {
            // Keep device-key unlock working: its slot is re-wrapped for the new data key.
            let keeping: [HostKeyWrapper] = self.settings.deviceKeyUnlock ? [self.keyWrapper] : []
            try await self.vault().changePassphrase(to: passphrase, keeping: keeping)
            self.message = String(localized: "message.passphrase_changed")
        }
    }

    private func didUnlock() async {
        phase = .unlocked
        enrollment = try? await vault().enrollment()
        await reloadAccounts()
        startCodes()
        if wakePending {
            wakePending = false
            await wake()
        }
    }

    private func reloadAccounts() async {
        guard let accounts = try? await vault().accounts() else { return }
        self.accounts = accounts
        rows = codeRows(accounts: accounts, codes: rows.compactMap(\.code))
    }

    /// Collects the core's code stream: one batch call per second for the whole list.
    private func startCodes() {
        codesTask?.cancel()
        guard let vault = authenticator else { return }
        codesTask = Task { [weak self] in
            do {
                for try await codes in vault.codeUpdates() {
                    guard let self else { return }
                    self.rows = codeRows(accounts: self.accounts, codes: codes)
                }
            } catch {
                self?.show(error)
            }
        }
    }

    private func vault() throws -> Authenticator {
        guard let authenticator else { throw AppError.noVault }
        return authenticator
    }

    /// Runs `work`, showing its error's message; true when it succeeded.
    @discardableResult
    private func perform(_ work: () async throws -> Void) async -> Bool {
        do {
            try await work()
            return true
        } catch {
            show(error)
            return false
        }
    }

    /// Shows `error` in the user's language; the core's English detail goes to the log.
    private func show(_ error: Error) {
        Self.log.error("\(error.userMessage)")
        message = localizedMessage(for: error)
    }
}

enum AppError: LocalizedError {
    case noVault

    var errorDescription: String? {
        switch self {
        case .noVault: return String(localized: "error.no_vault")
        }
    }
}
