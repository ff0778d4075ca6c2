import CityAuth
import CityAuthFFI
import CryptoKit
import Foundation
import XCTest

/// A cheap Argon2id cost so that each test's vault opens in milliseconds, not a second.
let testKdf = KdfSettings(memoryKib: 1024, iterations: 1, parallelism: 1)

/// RFC 6238 Appendix B's SHA-1 secret "12345678901234567890", base32.
let rfcSecretBase32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/// A fresh folder for one test's vault file, removed by the test's teardown.
func temporaryVaultURL(_ test: XCTestCase) throws -> URL {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("cityauth-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    return folder.appendingPathComponent("vault.sqlite")
}

/// A key-wrapping slot in Swift with CryptoKit AES-GCM, standing in for the Keychain (which an
/// unsigned test runner cannot use): it proves the foreign trait works end to end.
final class AesGcmKeyWrapper: HostKeyWrapper, @unchecked Sendable {
    private let key: SymmetricKey
    private let id: String

    init(id: String, key: SymmetricKey = SymmetricKey(size: .bits256)) {
        self.id = id
        self.key = key
    }

    func keyId() -> String { id }

    func wrap(key plain: Data) throws -> Data {
        do {
            guard let combined = try AES.GCM.seal(plain, using: key).combined else {
                throw KeyWrapError.Failed(reason: "AES-GCM produced no combined form")
            }
            return combined
        } catch let error as KeyWrapError {
            throw error
        } catch {
            throw KeyWrapError.Failed(reason: "seal failed")
        }
    }

    func unwrap(wrapped: Data) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key)
        } catch {
            throw KeyWrapError.Failed(reason: "the wrapped key does not open with this key")
        }
    }
}
