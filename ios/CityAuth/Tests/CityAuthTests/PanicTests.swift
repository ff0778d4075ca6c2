import CityAuthFFI
import XCTest

final class PanicTests: XCTestCase {
    /// A panic inside Rust reaches Swift as a thrown error, and the process goes on.
    func testRustPanicIsAThrownErrorNotACrash() throws {
        XCTAssertThrowsError(try panicForTesting(message: "from XCTest"))
        XCTAssertFalse(try coreVersion().isEmpty, "the library still answers after the panic")
    }
}
