/* Answer key, starvation: a writer-preferring rwlock; CD_RW_FAIR passes too (the lines marked FIX). */
--- lessons/exercises/starvation.c
+++ lessons/answers/starvation.c
@@ -32,9 +32,9 @@
 /* Creates the lock before the threads start: 0, or -1 on failure. */
 static int limiter_lock_init(limiter_t *lm)
 {
-    /* glibc's default: a reader gets in whenever no writer is inside,
-     * even while a writer waits. */
-    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
+    /* FIX: a writer-preferring lock: a waiting writer holds new
+     * readers back, so it gets in once the readers inside leave. */
+    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_WRITER);
 }
 
 static void limiter_lock_destroy(limiter_t *lm)
