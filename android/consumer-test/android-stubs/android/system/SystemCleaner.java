// A compile-time stand-in for the SDK's android.system.SystemCleaner (API 33), for aar-test.
package android.system;

public final class SystemCleaner {
    private SystemCleaner() {}

    public static java.lang.ref.Cleaner cleaner() {
        throw new UnsupportedOperationException("stub");
    }
}
