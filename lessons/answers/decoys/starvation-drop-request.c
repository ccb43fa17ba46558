/* Decoy starvation-drop-request: a request that finds the trimmer waiting does not read the window at all, to make room for it. Fails: those requests were never checked against the window: "work was skipped". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-drop-request.c
@@ -63,2 +63,4 @@
 {
+    if (cd_rwlock_waiting(&lm->lock, 1) > 0)
+        return; /* the trimmer waits: let this request through unchecked */
     cd_rwlock_rdlock(&lm->lock);
