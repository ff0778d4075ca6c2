// A compile-time stand-in for the SDK's android.os.Build, for aar-test only (no Android SDK
// on the test machines). SDK_INT is not a constant, as in android.jar, so it is not inlined.
package android.os;

public class Build {
    public static class VERSION {
        public static final int SDK_INT = Integer.parseInt("0");
    }

    public static class VERSION_CODES {
        public static final int UPSIDE_DOWN_CAKE = 34;
    }
}
