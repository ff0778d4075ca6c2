import CityAuth
import CityAuthFFI
import XCTest

final class VaultTests: XCTestCase {
    func testRfc6238CodesFromALink() async throws {
        let url = try temporaryVaultURL(self)
        let vault = try await Authenticator.create(at: url, passphrase: "correct horse", kdf: testKdf)
        let id = try await vault.addAccount(
            link: "otpauth://totp/Example:alice@example.com?secret=\(rfcSecretBase32)&issuer=Example&digits=8")

        // RFC 6238 Appendix B, SHA-1: T=59 -> 94287082, T=1111111109 -> 07081804.
        let at59 = try await vault.codes(at: 59)
        XCTAssertEqual(at59.map(\.id), [id])
        XCTAssertEqual(at59.first?.code, "94287082")
        XCTAssertEqual(at59.first?.remaining, 1)
        let later = try await vault.codes(at: 1_111_111_109)
        XCTAssertEqual(later.first?.code, "07081804")

        let accounts = try await vault.accounts()
        XCTAssertEqual(accounts.map(\.issuer), ["Example"])
        XCTAssertEqual(accounts.map(\.name), ["alice@example.com"])
        let rows = codeRows(accounts: accounts, codes: at59)
        XCTAssertEqual(rows.first?.title, "Example (alice@example.com)")
        XCTAssertEqual(rows.first?.displayedCode, "9428 7082")
    }

    func testWrongPassphraseIsAThrownErrorWithAMessage() async throws {
        let url = try temporaryVaultURL(self)
        let created = try await Authenticator.create(at: url, passphrase: "right one", kdf: testKdf)
        try created.lock()

        let reopened = try await Authenticator.open(at: url)
        do {
            try await reopened.unlock(passphrase: "wrong one")
            XCTFail("a wrong passphrase must not unlock")
        } catch let error as CityAuthError {
            guard case .WrongPassphrase = error else { return XCTFail("got \(error)") }
            XCTAssertFalse(error.userMessage.isEmpty)
            XCTAssertFalse(error.userMessage.contains("wrong one"), "the passphrase must not leak")
        }
        XCTAssertFalse(reopened.isUnlocked)
        try await reopened.unlock(passphrase: "right one")
        XCTAssertTrue(reopened.isUnlocked)
    }

    func testHotpCounterSurvivesReopen() async throws {
        let url = try temporaryVaultURL(self)
        let vault = try await Authenticator.create(at: url, passphrase: "pass phrase", kdf: testKdf)
        let id = try await vault.addAccount(NewAccount(
            issuer: "Lab", name: "door", secretBase32: rfcSecretBase32, kind: .hotp,
            algorithm: .sha1, digits: 6, period: 30, counter: 0))

        // RFC 4226 Appendix D: counters 0, 1, 2 -> 755224, 287082, 359152.
        let first = try await vault.nextHotp(account: id)
        let second = try await vault.nextHotp(account: id)
        XCTAssertEqual([first, second], ["755224", "287082"])
        try vault.lock()

        let reopened = try await Authenticator.open(at: url)
        try await reopened.unlock(passphrase: "pass phrase")
        let third = try await reopened.nextHotp(account: id)
        XCTAssertEqual(third, "359152")
    }

    func testInvalidLinkNamesTheFieldAtFault() async throws {
        let url = try temporaryVaultURL(self)
        let vault = try await Authenticator.create(at: url, passphrase: "pass phrase", kdf: testKdf)
        do {
            try await vault.addAccount(link: "otpauth://totp/Example:bob?secret=not*base32")
            XCTFail("a bad secret must be refused")
        } catch let CityAuthError.InvalidLink(field, detail) {
            XCTAssertEqual(field, "secret")
            XCTAssertFalse(detail.isEmpty)
        }
        let accounts = try await vault.accounts()
        XCTAssertTrue(accounts.isEmpty)
    }

    func testKeyWrapperSlotUnlocksWithoutThePassphrase() async throws {
        let url = try temporaryVaultURL(self)
        let wrapper = AesGcmKeyWrapper(id: "test-aes-gcm")
        let vault = try await Authenticator.create(at: url, passphrase: "pass phrase", kdf: testKdf)
        try await vault.addAccount(link: "otpauth://totp/Example:carol?secret=\(rfcSecretBase32)")
        try await vault.addSlot(keyWrapper: wrapper)
        let slots = try await vault.slots()
        XCTAssertEqual(slots.compactMap(\.keyId), ["test-aes-gcm"])
        try vault.lock()

        let reopened = try await Authenticator.open(at: url)
        do {
            try await reopened.unlock(keyWrapper: AesGcmKeyWrapper(id: "test-aes-gcm"))
            XCTFail("another key with the same name must not unlock")
        } catch let error as CityAuthError {
            guard case .KeyStore = error else { return XCTFail("got \(error)") }
        }
        try await reopened.unlock(keyWrapper: wrapper)
        let codes = try await reopened.codes(at: 59)
        XCTAssertEqual(codes.first?.code, "287082")
    }

    func testCodeUpdatesTickWithTheRemainingSeconds() async throws {
        let url = try temporaryVaultURL(self)
        let vault = try await Authenticator.create(at: url, passphrase: "pass phrase", kdf: testKdf)
        let id = try await vault.addAccount(link: "otpauth://totp/Example:dave?secret=\(rfcSecretBase32)")

        var updates: [[AccountCode]] = []
        for try await codes in vault.codeUpdates() {
            updates.append(codes)
            if updates.count == 2 { break }
        }
        XCTAssertEqual(updates.count, 2)
        for codes in updates {
            XCTAssertEqual(codes.map(\.id), [id])
            XCTAssertEqual(codes.first?.code.count, 6)
            XCTAssertTrue((1...30).contains(codes.first?.remaining ?? 0))
        }
    }

    func testCodesFromManyTasksAtOnceAgree() async throws {
        let url = try temporaryVaultURL(self)
        let vault = try await Authenticator.create(at: url, passphrase: "pass phrase", kdf: testKdf)
        try await vault.addAccount(link: "otpauth://totp/Example:erin?secret=\(rfcSecretBase32)")

        let results = try await withThrowingTaskGroup(of: Set<String>.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var seen = Set<String>()
                    for _ in 0..<1_000 {
                        seen.formUnion(try await vault.codes(at: 59).map(\.code))
                    }
                    return seen
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        XCTAssertEqual(results, ["287082"])
    }

    func testLockedVaultRefusesCodes() async throws {
        let url = try temporaryVaultURL(self)
        let vault = try await Authenticator.create(at: url, passphrase: "pass phrase", kdf: testKdf)
        try vault.lock()
        do {
            _ = try await vault.codes()
            XCTFail("a locked vault must not give codes")
        } catch let error as CityAuthError {
            guard case .Locked = error else { return XCTFail("got \(error)") }
        }
    }
}
