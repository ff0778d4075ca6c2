import CityAuthFFI
import Foundation

/// One row of the account list: the account and, for time-based ones, its current code.
public struct CodeRow: Identifiable, Equatable, Sendable {
    /// The account.
    public let account: AccountInfo
    /// The current code; nil for HOTP accounts (their codes come from `nextHotp`).
    public let code: AccountCode?

    /// The account id.
    public var id: Int64 { account.id }

    /// The core's label: "Issuer (name)", or whichever of the two is present.
    public var title: String { account.label }

    /// The code split in two halves for reading aloud ("287 082"); "" when there is none.
    public var displayedCode: String {
        guard let digits = code?.code else { return "" }
        let half = digits.count / 2
        return "\(digits.prefix(half)) \(digits.dropFirst(half))"
    }

    /// Remaining share of the period, 1 (fresh) to 0 (about to change), for the countdown ring.
    public var progress: Double {
        guard let code, code.period > 0 else { return 0 }
        return Double(code.remaining) / Double(code.period)
    }
}

/// Joins the accounts with the codes of one `codes()` call, in the accounts' order.
public func codeRows(accounts: [AccountInfo], codes: [AccountCode]) -> [CodeRow] {
    let byId = Dictionary(codes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    return accounts.map { CodeRow(account: $0, code: byId[$0.id]) }
}

extension Error {
    /// The message to show a user: the core's readable text for its errors.
    public var userMessage: String {
        switch self {
        case let error as CityAuthError: return error.description
        case let KeyWrapError.Failed(reason): return reason
        default: return localizedDescription
        }
    }
}
