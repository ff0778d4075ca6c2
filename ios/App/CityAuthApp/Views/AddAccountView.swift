import CityAuthFFI
import SwiftUI
import UIKit

/// Add an account by scanning its QR code (or a City enrollment code), or by typing it in.
/// The core checks every field; its error names the one at fault.
struct AddAccountView: View {
    @EnvironmentObject private var model: AppModel
    @Environment(\.dismiss) private var dismiss
    @State private var scanning = false
    @State private var issuer = ""
    @State private var name = ""
    @State private var secret = ""
    @State private var kind = OtpKind.totp
    @State private var algorithm = HashAlgorithm.sha1
    @State private var digits: UInt8 = 6
    @State private var period: UInt32 = 30

    var body: some View {
        Form {
            Section {
                Button { scanning = true } label: {
                    Label("add.scan", systemImage: "qrcode.viewfinder")
                }
                Button { pasteLink() } label: {
                    Label("add.paste", systemImage: "doc.on.clipboard")
                }
            }
            Section("add.by_hand") {
                TextField("add.service", text: $issuer)
                TextField("add.account_name", text: $name)
                    .textInputAutocapitalization(.never)
                TextField("add.secret", text: $secret)
                    .textInputAutocapitalization(.characters)
                    .autocorrectionDisabled()
                Picker("add.type", selection: $kind) {
                    Text("add.kind.totp").tag(OtpKind.totp)
                    Text("add.kind.hotp").tag(OtpKind.hotp)
                    Text("add.kind.steam").tag(OtpKind.steam)
                }
                Picker("add.algorithm", selection: $algorithm) {
                    Text(verbatim: "SHA-1").tag(HashAlgorithm.sha1)
                    Text(verbatim: "SHA-256").tag(HashAlgorithm.sha256)
                    Text(verbatim: "SHA-512").tag(HashAlgorithm.sha512)
                }
                Stepper(value: $digits, in: 6...8) {
                    Text(formatted(String(localized: "add.digits"), Int(digits)))
                }
                if kind != .hotp {
                    Stepper(value: $period, in: 15...120, step: 15) {
                        Text(formatted(String(localized: "add.period"), Int(period)))
                    }
                }
                Button("add.account") { addTyped() }
                    .disabled(name.isEmpty || secret.isEmpty)
            }
        }
        .navigationTitle("add.account")
        .toolbar {
            ToolbarItem(placement: .cancellationAction) { Button("common.cancel") { dismiss() } }
        }
        .sheet(isPresented: $scanning) {
            QRScannerView { link in
                scanning = false
                Task { if await model.handleScanned(link) { dismiss() } }
            }
            .ignoresSafeArea()
        }
    }

    /// An otpauth:// or cityauth://enroll link copied from elsewhere (the simulator has no camera).
    private func pasteLink() {
        guard let link = UIPasteboard.general.string?.trimmingCharacters(in: .whitespacesAndNewlines),
              !link.isEmpty
        else {
            model.message = String(localized: "add.no_link")
            return
        }
        Task { if await model.handleScanned(link) { dismiss() } }
    }

    private func addTyped() {
        let account = NewAccount(
            issuer: issuer, name: name, secretBase32: secret, kind: kind,
            algorithm: algorithm, digits: digits, period: period, counter: 0)
        Task {
            if await model.add(account) {
                secret = ""
                dismiss()
            }
        }
    }
}
