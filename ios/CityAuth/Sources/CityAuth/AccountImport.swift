import CityAuthFFI
import Foundation

/// An import read and set against the vault, not yet written: show `report` (what will be
/// added, what is already there, what cannot be read and where), then `commit()` on the
/// user's yes. Made by `Authenticator.previewImport`; `report` holds no secret.
public final class AccountImport: Sendable {
    /// The generated object.
    public let preview: ImportPreview
    /// What `commit()` adds, skips and refuses.
    public let report: ImportReport

    init(preview: ImportPreview, report: ImportReport) {
        self.preview = preview
        self.report = report
    }

    /// Adds the report's `toAdd` accounts in one transaction (all or none); returns their ids
    /// in file order. `CityAuthError.AlreadyCommitted` when called again after a success;
    /// after a failure (e.g. `.Locked`) nothing was added and it may be retried.
    @discardableResult
    public func commit() async throws -> [Int64] {
        try await offMain { [preview] in try preview.commit() }
    }
}
