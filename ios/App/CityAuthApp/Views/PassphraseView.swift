import SwiftUI

/// First start (choose a passphrase) or a locked vault (passphrase or Face ID).
struct PassphraseView: View {
    enum Mode { case create, unlock }

    let mode: Mode
    @EnvironmentObject private var model: AppModel
    @State private var passphrase = ""
    @State private var confirmation = ""
    @State private var working = false

    var body: some View {
        Form {
            Section {
                SecureField("Passphrase", text: $passphrase)
                    .textContentType(mode == .create ? .newPassword : .password)
                if mode == .create {
                    SecureField("Passphrase again", text: $confirmation)
                        .textContentType(.newPassword)
                }
            } header: {
                Text(mode == .create ? "Protect your codes with a passphrase" : "Unlock your codes")
            } footer: {
                if mode == .create {
                    Text("It encrypts the vault on this phone. Nobody can recover it for you.")
                }
            }
            Section {
                Button(mode == .create ? "Create vault" : "Unlock") { submit() }
                    .disabled(!canSubmit)
                if mode == .unlock && model.settings.deviceKeyUnlock {
                    Button("Unlock with Face ID or passcode") {
                        Task { await model.unlockWithDeviceKey() }
                    }
                }
            }
        }
        .disabled(working)
        .overlay { if working { ProgressView() } }
    }

    private var canSubmit: Bool {
        !passphrase.isEmpty && (mode == .unlock || passphrase == confirmation)
    }

    private func submit() {
        working = true
        let entered = passphrase
        passphrase = ""
        confirmation = ""
        Task {
            switch mode {
            case .create: await model.create(passphrase: entered)
            case .unlock: await model.unlock(passphrase: entered)
            }
            working = false
        }
    }
}
