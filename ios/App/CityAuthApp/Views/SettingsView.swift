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
                Toggle("settings.lock_on_leave", isOn: $appLock)
                    .onChange(of: appLock) { model.settings.appLock = $0 }
                Toggle("unlock.device", isOn: $deviceKey)
                    .onChange(of: deviceKey) { on in
                        guard on != model.settings.deviceKeyUnlock else { return }
                        Task {
                            await model.setDeviceKeyUnlock(on)
                            deviceKey = model.settings.deviceKeyUnlock
                        }
                    }
            } header: {
                Text("settings.app_lock")
            } footer: {
                Text("settings.app_lock.note")
            }
            Section {
                Toggle("settings.backup.include", isOn: $backup)
                    .onChange(of: backup) { model.setIncludeInBackup($0) }
            } header: {
                Text("settings.backup")
            } footer: {
                Text("settings.backup.note")
            }
            Section("settings.passphrase") {
                SecureField("settings.new_passphrase", text: $newPassphrase)
                    .textContentType(.newPassword)
                Button("settings.change_passphrase") {
                    let entered = newPassphrase
                    newPassphrase = ""
                    Task { _ = await model.changePassphrase(entered) }
                }
                .disabled(newPassphrase.isEmpty)
            }
            Section("settings.city_account") {
                if let enrollment = model.enrollment {
                    LabeledContent("settings.signed_in_as", value: enrollment.displayName)
                    LabeledContent("settings.account", value: enrollment.username)
                    Button("settings.check_requests") { Task { await model.wake() } }
                    Button("settings.remove_phone", role: .destructive) { Task { await model.unenroll() } }
                } else {
                    Button("settings.register") { enrolling = true }
                }
            }
            Section {
                Button("settings.lock_now") { model.lock() }
                LabeledContent(
                    "settings.core_version",
                    value: (try? coreVersion()) ?? String(localized: "settings.core_version.unknown"))
            }
        }
        .navigationTitle("tab.settings")
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
