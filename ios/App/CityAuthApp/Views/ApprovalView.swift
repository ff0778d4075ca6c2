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
                    LabeledContent("Request", value: kindText)
                    LabeledContent("Application", value: challenge.application)
                    LabeledContent("Account", value: challenge.account)
                    LabeledContent("From", value: challenge.clientIp)
                    LabeledContent("Near", value: challenge.location)
                    LabeledContent("At", value: date(challenge.createdAt).formatted(date: .omitted, time: .shortened))
                    LabeledContent("Expires in", value: "\(secondsLeft) s")
                }
                if challenge.numberDigits > 0 {
                    Section {
                        TextField("Number shown in the browser", text: $number)
                            .keyboardType(.numberPad)
                            .font(.system(.title2, design: .monospaced))
                    } footer: {
                        Text("Type the \(challenge.numberDigits)-digit number the sign-in page shows.")
                    }
                }
                Section {
                    Button("Approve") { send(.approve) }
                        .disabled(!numberComplete || secondsLeft == 0)
                    Button("Deny") { send(.deny) }
                    Button("It wasn't me: report fraud", role: .destructive) { send(.fraud) }
                }
            }
            .disabled(working)
            .navigationTitle("Is this you?")
            .onReceive(ticker) { now = $0 }
        }
        .interactiveDismissDisabled()
    }

    private var kindText: String {
        switch challenge.kind {
        case .signIn: return "Sign-in"
        case .passwordReset: return "Password reset"
        case .passwordChange: return "Password change"
        case .addDevice: return "Add a phone"
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
                model.message = "Answer sent: \(outcome.replacingOccurrences(of: "_", with: " "))."
                dismiss()
            }
            working = false
        }
    }
}
