/* Decoy starvation-drop-request: a request that finds the trimmer waiting does not read the window at all, to make room for it. Fails: those requests were never checked against the window: "work was skipped". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-drop-request.c
@@ -61,6 +61,8 @@
 /* One request: only reads the window. */
 void check_request(limiter_t *lm, int index)
 {
+    if (cd_rwlock_waiting(&lm->lock, 1) > 0)
+        return; /* the trimmer waits: let this request through unchecked */
     cd_rwlock_rdlock(&lm->lock);
     read_window(index);
     cd_rwlock_unlock(&lm->lock);
