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
                SecureField("passphrase.field", text: $passphrase)
                    .textContentType(mode == .create ? .newPassword : .password)
                if mode == .create {
                    SecureField("passphrase.again", text: $confirmation)
                        .textContentType(.newPassword)
                }
            } header: {
                Text(titleKey)
            } footer: {
                if mode == .create {
                    Text("passphrase.create.note")
                }
            }
            Section {
                Button(submitKey) { submit() }
                    .disabled(!canSubmit)
                if mode == .unlock && model.settings.deviceKeyUnlock {
                    Button("unlock.device") {
                        Task { await model.unlockWithDeviceKey() }
                    }
                }
            }
        }
        .disabled(working)
        .overlay { if working { ProgressView() } }
    }

    private var titleKey: LocalizedStringKey {
        mode == .create ? "passphrase.create.title" : "passphrase.unlock.title"
    }

    private var submitKey: LocalizedStringKey {
        mode == .create ? "passphrase.create.button" : "passphrase.unlock.button"
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
