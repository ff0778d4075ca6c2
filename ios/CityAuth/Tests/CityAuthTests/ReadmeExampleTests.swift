import CityAuth
import CityAuthFFI
import XCTest

/// README.md's Swift example ("For mobile developers"), run as written. The Kotlin test
/// `ReadmeExampleTest` fails if the README shows anything but the lines between the markers.
final class ReadmeExampleTests: XCTestCase {
    func testTheReadmeExampleRuns() async throws {
        let url = try temporaryVaultURL(self)
        var screen: [AccountCode] = []
        var shown: [String] = []
        func show(_ message: String) { shown.append(message) }

        // README-BEGIN
        let vault = try await Authenticator.create(at: url, passphrase: "correct horse battery")
        let id = try await vault.addAccount(link: "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        for try await codes in vault.codeUpdates() { screen = codes; break }  // every account, once a second
        try vault.lock()
        do {
            try await vault.unlock(passphrase: "not the passphrase")
        } catch let error as CityAuthError {
            show(error.userMessage)  // "wrong passphrase"
        }
        try await vault.unlock(passphrase: "correct horse battery")
        // README-END

        XCTAssertEqual(screen.map(\.id), [id])
        XCTAssertEqual(screen.first?.code.count, 6)
        XCTAssertEqual(shown, ["wrong passphrase"])
        XCTAssertTrue(vault.isUnlocked)
    }
}
