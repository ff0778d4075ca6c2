import SwiftUI

/// The app: one model, the root view, and the push delegate that only wakes the core.
@main
struct CityAuthApp: App {
    @UIApplicationDelegateAdaptor(PushDelegate.self) private var pushDelegate
    @StateObject private var model = AppModel()
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            RootView()
                .environmentObject(model)
                // The app-switcher snapshot is taken as the scene leaves the foreground:
                // cover the codes and requests first, whether or not the app lock is on.
                .overlay {
                    if scenePhase != .active {
                        PrivacyCover()
                    }
                }
                .task {
                    pushDelegate.model = model
                    await model.start()
                }
        }
        .onChange(of: scenePhase) { phase in
            model.sceneChanged(to: phase)
        }
    }
}

/// What the app-switcher snapshot and a screen recording show while the app is not in
/// front: the background and the app's symbol, never a code or a request.
struct PrivacyCover: View {
    var body: some View {
        ZStack {
            Color(uiColor: .systemBackground)
            Image(systemName: "lock.shield")
                .font(.system(size: 56))
                .foregroundStyle(.secondary)
                .accessibilityHidden(true)
        }
        .ignoresSafeArea()
    }
}
