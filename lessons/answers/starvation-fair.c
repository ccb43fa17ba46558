/* Another answer, starvation: a first-come-first-served rwlock (the lines marked FIX). */
--- lessons/exercises/starvation.c
+++ lessons/answers/starvation-fair.c
@@ -34,5 +34,5 @@
 {
-    /* glibc's default: a reader gets in whenever no writer is inside,
-     * even while a writer waits. */
-    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
+    /* FIX: first come, first served: no reader overtakes a waiting
+     * writer, and no writer overtakes waiting readers. */
+    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_FAIR);
 }
