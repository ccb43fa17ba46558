/* Answer key, starvation: a writer-preferring rwlock; CD_RW_FAIR passes too (the lines marked FIX). */
--- lessons/exercises/starvation.c
+++ lessons/answers/starvation.c
@@ -34,5 +34,5 @@
 {
-    /* glibc's default: a reader gets in whenever no writer is inside,
-     * even while a writer waits. */
-    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
+    /* FIX: a writer-preferring lock: a waiting writer holds new
+     * readers back, so it gets in once the readers inside leave. */
+    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_WRITER);
 }
