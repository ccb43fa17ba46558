/* Decoy starvation-skip: the trimmer tries the write lock and skips the trim when readers are in. Fails: it never waits, but the window is never trimmed: "work was skipped". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-skip.c
@@ -69,7 +69,8 @@
 /* One trim: needs the window to itself. */
 void trim_window(limiter_t *lm)
 {
-    cd_rwlock_wrlock(&lm->lock);
+    if (cd_rwlock_trywrlock(&lm->lock) != 0)
+        return; /* busy: trim next time */
     drop_expired();
     cd_rwlock_unlock(&lm->lock);
 }
