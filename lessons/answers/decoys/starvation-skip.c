/* Decoy starvation-skip: the trimmer tries the write lock and skips the trim when readers are in. Fails: it never waits, but the window is never trimmed: "work was skipped". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-skip.c
@@ -71,3 +71,4 @@
 {
-    cd_rwlock_wrlock(&lm->lock);
+    if (cd_rwlock_trywrlock(&lm->lock) != 0)
+        return; /* busy: trim next time */
     drop_expired();
