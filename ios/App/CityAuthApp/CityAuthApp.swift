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
