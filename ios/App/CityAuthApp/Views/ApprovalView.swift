import CityAuthFFI
import SwiftUI

/// A sign-in or password-reset request: its context, the number from the browser when one is
/// asked, and approve / deny / report fraud. The core verified the server's signature already.
struct ApprovalView: View {
    let challenge: Challenge
    @EnvironmentObject private var model: AppModel
    @Environment(\.dismiss) private var dismiss
    @State private var number = ""
    @State private var working = false
    @State private var now = Date()
    private let ticker = Timer.publish(every: 1, on: .main, in: .common).autoconnect()

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    LabeledContent("approval.request", value: kindText)
                    LabeledContent("approval.application", value: challenge.application)
                    LabeledContent("approval.account", value: challenge.account)
                    LabeledContent("approval.from", value: challenge.clientIp)
                    LabeledContent("approval.near", value: challenge.location)
                    LabeledContent("approval.at", value: date(challenge.createdAt).formatted(date: .omitted, time: .shortened))
                    LabeledContent("approval.expires_in", value: formatted(String(localized: "approval.seconds"), secondsLeft))
                }
                if challenge.numberDigits > 0 {
                    Section {
                        TextField("approval.number_field", text: $number)
                            .keyboardType(.numberPad)
                            .font(.system(.title2, design: .monospaced))
                    } footer: {
                        Text(formatted(String(localized: "approval.number_hint"), Int(challenge.numberDigits)))
                    }
                }
                Section {
                    Button("approval.approve") { send(.approve) }
                        .disabled(!numberComplete || secondsLeft == 0)
                    Button("approval.deny") { send(.deny) }
                    Button("approval.report_fraud", role: .destructive) { send(.fraud) }
                }
            }
            .disabled(working)
            .navigationTitle("approval.title")
            .onReceive(ticker) { now = $0 }
        }
        .interactiveDismissDisabled()
    }

    private var kindText: String {
        switch challenge.kind {
        case .signIn: return String(localized: "kind.sign_in")
        case .passwordReset: return String(localized: "kind.password_reset")
        case .passwordChange: return String(localized: "kind.password_change")
        case .addDevice: return String(localized: "kind.add_device")
        case .callerVerification: return String(localized: "kind.caller_verification")
        }
    }

    private var numberComplete: Bool {
        challenge.numberDigits == 0
            || (number.count == Int(challenge.numberDigits) && number.allSatisfy(\.isNumber))
    }

    /// Seconds to expiry, by the core's server-corrected clock offset.
    private var secondsLeft: Int {
        let offset = model.enrollment?.clockOffset ?? 0
        let serverNow = Int64(now.timeIntervalSince1970) + offset
        return max(0, Int(Int64(clamping: challenge.expiresAt) - serverNow))
    }

    private func date(_ unixSeconds: UInt64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(unixSeconds))
    }

    private func send(_ answer: Answer) {
        working = true
        let typed = challenge.numberDigits > 0 && answer == .approve ? number : nil
        Task {
            if let outcome = await model.answer(challenge, with: answer, number: typed) {
                model.message = outcomeMessage(outcome)
                dismiss()
            }
            working = false
        }
    }
}
