import CityAuthFFI
import Foundation

/// The City account on this device: enrollment, pending sign-in and password-reset requests,
/// answers. Every call talks to the server; all are async.
public final class CityApprovals: Sendable {
    /// The generated object, for calls the wrapper does not cover.
    public let approvals: Approvals

    init(approvals: Approvals) {
        self.approvals = approvals
    }

    /// Enrolls from the portal's `cityauth://enroll` QR link; `pushToken` is the APNs token
    /// in hex, if the user allowed notifications.
    public func enroll(link: String, deviceName: String, pushToken: String?) async throws -> Enrolled {
        try await offMain { [approvals] in
            try approvals.enroll(link: link, deviceName: deviceName, platform: "ios", pushToken: pushToken)
        }
    }

    /// The pending requests, verified against the pinned server key; waits up to
    /// `waitSeconds` (at most 25) for one. A push only says "look": this is where the look happens.
    public func pending(waitSeconds: UInt64 = 0) async throws -> [Challenge] {
        try await offMain { [approvals] in try approvals.pending(waitSeconds: waitSeconds) }
    }

    /// Answers a request; `number` is the one the browser shows, when it asks for one.
    /// Returns the server's outcome ("approved", "denied", "fraud_reported").
    public func answer(_ challenge: Challenge, with answer: Answer, number: String? = nil) async throws -> String {
        try await offMain { [approvals] in
            try approvals.answer(challengeId: challenge.id, answer: answer, number: number)
        }
    }

    /// Removes this device from the server; the City account's codes stay as an account.
    public func unenroll() async throws {
        try await offMain { [approvals] in try approvals.unenroll() }
    }
}
