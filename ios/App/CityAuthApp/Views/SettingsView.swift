import CityAuthFFI
import SwiftUI

/// App lock, Face ID unlock (the Keychain slot), backup, the passphrase, the City account.
struct SettingsView: View {
    @EnvironmentObject private var model: AppModel
    @State private var appLock = true
    @State private var deviceKey = false
    @State private var backup = true
    @State private var newPassphrase = ""
    @State private var enrolling = false

    var body: some View {
        Form {
            Section {
                Toggle("Lock when leaving the app", isOn: $appLock)
                    .onChange(of: appLock) { model.settings.appLock = $0 }
                Toggle("Unlock with Face ID or passcode", isOn: $deviceKey)
                    .onChange(of: deviceKey) { on in
                        guard on != model.settings.deviceKeyUnlock else { return }
                        Task {
                            await model.setDeviceKeyUnlock(on)
                            deviceKey = model.settings.deviceKeyUnlock
                        }
                    }
            } header: {
                Text("App lock")
            } footer: {
                Text("Face ID unlock keeps a key in this phone's Secure Enclave; the passphrase always works too.")
            }
            Section {
                Toggle("Include codes in iCloud and computer backups", isOn: $backup)
                    .onChange(of: backup) { model.setIncludeInBackup($0) }
            } header: {
                Text("Backup")
            } footer: {
                Text("The backup holds the encrypted vault: restoring it needs your passphrase.")
            }
            Section("Passphrase") {
                SecureField("New passphrase", text: $newPassphrase)
                    .textContentType(.newPassword)
                Button("Change passphrase") {
                    let entered = newPassphrase
                    newPassphrase = ""
                    Task { _ = await model.changePassphrase(entered) }
                }
                .disabled(newPassphrase.isEmpty)
            }
            Section("City account") {
                if let enrollment = model.enrollment {
                    LabeledContent("Signed in as", value: enrollment.displayName)
                    LabeledContent("Account", value: enrollment.username)
                    Button("Check for requests") { Task { await model.wake() } }
                    Button("Remove this phone", role: .destructive) { Task { await model.unenroll() } }
                } else {
                    Button("Register this phone (scan the portal's code)") { enrolling = true }
                }
            }
            Section {
                Button("Lock now") { model.lock() }
                LabeledContent("Core version", value: (try? coreVersion()) ?? "unknown")
            }
        }
        .navigationTitle("Settings")
        .onAppear {
            appLock = model.settings.appLock
            deviceKey = model.settings.deviceKeyUnlock
            backup = model.settings.includeInBackup
        }
        .sheet(isPresented: $enrolling) {
            QRScannerView { link in
                enrolling = false
                Task { _ = await model.enroll(link: link) }
            }
            .ignoresSafeArea()
        }
    }
}
