import CityAuthFFI
import Foundation

// The words the app shows come from Localizable.xcstrings (English and Spanish). Views use its
// keys as LocalizedStringKey literals (`Text("tab.codes")`); code uses `String(localized:)`.
// tools/swift-check/tests/app_strings.rs checks that every key is translated and used.

/// A catalogue string with its `%@` / `%lld` placeholders filled in, in the user's locale.
func formatted(_ format: String, _ arguments: CVarArg...) -> String {
    String(format: format, locale: .current, arguments: arguments)
}

/// What to tell the user about `error`, in their language: the catalogue's sentence for the
/// core's stable code (read with the exported `errorCode(error:)`, docs/error-codes.md), or a
/// general one. The core's English `detail` (`error.userMessage`) is for logs.
func localizedMessage(for error: Error) -> String {
    switch error {
    case let error as CityAuthError:
        if case let .WrongNumberFormat(digits, _) = error {
            return formatted(String(localized: "error.wrong_number_format"), Int(digits))
        }
        if case let .ServerRefused(_, code, _) = error, code == "wrong_number" {
            return String(localized: "error.server_refused.wrong_number")
        }
        let code = (try? errorCode(error: error)) ?? ""
        return errorMessage(forCode: code) ?? String(localized: "error.generic")
    case is KeyWrapError:
        return String(localized: "error.key_store")
    case let error as AppError:
        return error.errorDescription ?? String(localized: "error.generic")
    default:
        return String(localized: "error.generic")
    }
}

/// The sentence for a stable error code; nil for a code this app does not know yet (a newer
/// core), which then gets the general message.
func errorMessage(forCode code: String) -> String? {
    switch code {
    case "not_found": return String(localized: "error.not_found")
    case "already_exists": return String(localized: "error.already_exists")
    case "not_a_vault": return String(localized: "error.not_a_vault")
    case "wrong_passphrase": return String(localized: "error.wrong_passphrase")
    case "locked": return String(localized: "error.locked")
    case "no_matching_slot": return String(localized: "error.no_matching_slot")
    case "key_store": return String(localized: "error.key_store")
    case "integrity": return String(localized: "error.integrity")
    case "invalid_link": return String(localized: "error.invalid_link")
    case "invalid_input": return String(localized: "error.invalid_input")
    case "unknown_account": return String(localized: "error.unknown_account")
    case "wrong_account_kind": return String(localized: "error.wrong_account_kind")
    case "busy": return String(localized: "error.busy")
    case "storage": return String(localized: "error.storage")
    case "network": return String(localized: "error.network")
    case "server_refused": return String(localized: "error.server_refused")
    case "server_untrusted": return String(localized: "error.server_untrusted")
    case "expired": return String(localized: "error.expired")
    case "wrong_number_format": return String(localized: "error.wrong_number_format")
    case "not_enrolled": return String(localized: "error.not_enrolled")
    case "already_enrolled": return String(localized: "error.already_enrolled")
    case "password_required": return String(localized: "error.password_required")
    case "wrong_password": return String(localized: "error.wrong_password")
    case "damaged_file": return String(localized: "error.damaged_file")
    case "unknown_format": return String(localized: "error.unknown_format")
    case "unsupported_file": return String(localized: "error.unsupported_file")
    case "missing_batch_parts": return String(localized: "error.missing_batch_parts")
    case "already_committed": return String(localized: "error.already_committed")
    case "cancelled": return String(localized: "error.cancelled")
    default: return nil
    }
}

/// The message for the server's outcome of an answer ("approved", "denied", "fraud_reported").
func outcomeMessage(_ outcome: String) -> String {
    switch outcome {
    case "approved": return String(localized: "message.answer.approved")
    case "denied": return String(localized: "message.answer.denied")
    case "fraud_reported": return String(localized: "message.answer.fraud")
    default: return String(localized: "message.answer.sent")
    }
}
