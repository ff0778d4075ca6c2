import CityAuth
import CityAuthFFI
import Foundation
import XCTest

/// Import, backup and export through `Authenticator` on the real export files of
/// transfer/tests/fixtures (plain.txt holds their seven accounts as otpauth links).
final class TransferTests: XCTestCase {
    /// The repository's transfer/tests/fixtures, found from this file's place in the tree.
    private func fixture(_ name: String) throws -> Data {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // CityAuthTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // CityAuth
            .deletingLastPathComponent()  // ios
            .deletingLastPathComponent()  // the repository
        return try Data(contentsOf: root.appendingPathComponent("transfer/tests/fixtures/\(name)"))
    }

    private func newVault(_ passphrase: String = "vault passphrase") async throws -> Authenticator {
        try await Authenticator.create(at: try temporaryVaultURL(self), passphrase: passphrase, kdf: testKdf)
    }

    /// plain.txt's accounts added one link at a time: what every import must give.
    private func referenceVault() async throws -> Authenticator {
        let vault = try await newVault("reference")
        let text = String(decoding: try fixture("plain.txt"), as: UTF8.self)
        for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            try await vault.addAccount(link: line.trimmingCharacters(in: .whitespaces))
        }
        return vault
    }

    func testAnEncryptedAegisFileIsPreviewedThenCommitted() async throws {
        let expected = try await referenceVault()
        let vault = try await newVault()
        let pending = try await vault.previewImport(try fixture("aegis_encrypted.json"), password: "test")
        XCTAssertEqual(pending.report.format, "aegis")
        let reference = try await expected.accounts()
        XCTAssertEqual(pending.report.toAdd.map(\.name), reference.map(\.name))
        XCTAssertEqual(pending.report.toAdd.map(\.issuer), reference.map(\.issuer))
        XCTAssertEqual(pending.report.toAdd.map(\.kind), reference.map(\.kind))
        XCTAssertTrue(pending.report.duplicates.isEmpty)
        XCTAssertTrue(pending.report.rejected.isEmpty)
        let before = try await vault.accounts()
        XCTAssertTrue(before.isEmpty, "a preview writes nothing")

        let ids = try await pending.commit()
        let listed = try await vault.accounts()
        XCTAssertEqual(listed.map(\.id), ids)
        let imported = try await vault.exportLinks()
        let wanted = try await expected.exportLinks()
        XCTAssertEqual(imported, wanted)
    }

    func testThePasswordIsAskedForThenAWrongOneIsRefused() async throws {
        let vault = try await newVault()
        let file = try fixture("aegis_encrypted.json")
        do {
            _ = try await vault.previewImport(file)
            XCTFail("an encrypted file needs its password")
        } catch CityAuthError.PasswordRequired {
        }
        do {
            _ = try await vault.previewImport(file, format: "aegis", password: "not-it-4417")
            XCTFail("a wrong password must be refused")
        } catch let CityAuthError.WrongPassword(detail) {
            XCTAssertFalse(detail.isEmpty)
            XCTAssertFalse(detail.contains("not-it-4417"))
        }
        let pending = try await vault.previewImport(file, format: "aegis", password: "test")
        XCTAssertEqual(pending.report.toAdd.count, 7)
    }

    func testASecondCommitIsRefused() async throws {
        let vault = try await newVault()
        let pending = try await vault.previewImport(try fixture("aegis_encrypted.json"), password: "test")
        let ids = try await pending.commit()
        XCTAssertEqual(ids.count, 7)
        do {
            try await pending.commit()
            XCTFail("a second commit must not import again")
        } catch CityAuthError.AlreadyCommitted {
        }
        let accounts = try await vault.accounts()
        XCTAssertEqual(accounts.count, 7)
    }

    func testImportingAgainFindsEveryAccountAlreadyThere() async throws {
        let vault = try await newVault()
        let ids = try await vault.previewImport(try fixture("aegis_encrypted.json"), password: "test").commit()
        let again = try await vault.previewImport(try fixture("plain.txt"))
        XCTAssertEqual(again.report.format, "links")
        XCTAssertTrue(again.report.toAdd.isEmpty)
        XCTAssertEqual(again.report.duplicates.map(\.existingId), ids.map { Optional($0) })
    }

    func testABackupRestoresTheSameAccountsIntoAFreshVault() async throws {
        let vault = try await newVault()
        try await vault.previewImport(try fixture("aegis_encrypted.json"), password: "test").commit()
        let backup = try await vault.backup(passphrase: "backup words")

        let fresh = try await newVault("other")
        do {
            _ = try await fresh.previewRestore(backup, passphrase: "not the words")
            XCTFail("a wrong backup passphrase must be refused")
        } catch CityAuthError.WrongPassword {
        }
        let restore = try await fresh.previewRestore(backup, passphrase: "backup words")
        XCTAssertEqual(restore.report.format, "cityauth")
        try await restore.commit()
        let restored = try await fresh.exportLinks()
        let original = try await vault.exportLinks()
        XCTAssertEqual(restored, original)
        let restoredCodes = try await fresh.codes(at: 1_700_000_000).map(\.code)
        let originalCodes = try await vault.codes(at: 1_700_000_000).map(\.code)
        XCTAssertEqual(restoredCodes, originalCodes)
    }

    func testAGoogleExportLeavesOutWhatGoogleCannotHold() async throws {
        let vault = try await newVault()
        try await vault.previewImport(try fixture("plain.txt")).commit()
        let export = try await vault.exportGoogleLinks()
        let accounts = try await vault.accounts()
        let steam = try XCTUnwrap(accounts.first { $0.kind == .steam })
        XCTAssertTrue(export.refused.contains { $0.id == steam.id && !$0.reason.isEmpty })
        XCTAssertFalse(export.links.isEmpty)

        let fresh = try await newVault("other")
        try await fresh.previewImport(Data(export.links.joined(separator: "\n").utf8)).commit()
        let back = try await fresh.accounts()
        XCTAssertEqual(back.count + export.refused.count, 7)
    }
}
