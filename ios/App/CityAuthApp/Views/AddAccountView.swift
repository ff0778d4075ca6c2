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
                    Label("Scan QR code", systemImage: "qrcode.viewfinder")
                }
                Button { pasteLink() } label: {
                    Label("Paste a link", systemImage: "doc.on.clipboard")
                }
            }
            Section("Or enter it by hand") {
                TextField("Service (e.g. GitHub)", text: $issuer)
                TextField("Account (e.g. alice@city.gov)", text: $name)
                    .textInputAutocapitalization(.never)
                TextField("Secret key", text: $secret)
                    .textInputAutocapitalization(.characters)
                    .autocorrectionDisabled()
                Picker("Type", selection: $kind) {
                    Text("Time-based").tag(OtpKind.totp)
                    Text("Counter-based").tag(OtpKind.hotp)
                    Text("Steam").tag(OtpKind.steam)
                }
                Picker("Algorithm", selection: $algorithm) {
                    Text("SHA-1").tag(HashAlgorithm.sha1)
                    Text("SHA-256").tag(HashAlgorithm.sha256)
                    Text("SHA-512").tag(HashAlgorithm.sha512)
                }
                Stepper("Digits: \(digits)", value: $digits, in: 6...8)
                if kind != .hotp {
                    Stepper("Period: \(period) s", value: $period, in: 15...120, step: 15)
                }
                Button("Add account") { addTyped() }
                    .disabled(name.isEmpty || secret.isEmpty)
            }
        }
        .navigationTitle("Add account")
        .toolbar {
            ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
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
            model.message = "The clipboard holds no link."
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
