/* Decoy starvation-wait-out: a request that finds the trimmer waiting first sits out 3.5 ms, longer than a read, in a wait named "walk-window" like the harness's, so that the readers inside leave and the trimmer gets in. Fails: a wait orders nothing; a sleeper may wake before the readers inside are done and the lock still lets it past: "reads went in ahead". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-wait-out.c
@@ -63,2 +63,7 @@
 {
+    /* The trimmer waits: sit out one read (3 ms, and a little), named
+     * like the harness's walk of the window, so that the readers inside
+     * leave and it gets in first. */
+    if (cd_rwlock_waiting(&lm->lock, 1) > 0)
+        cd_latency("walk-window", 3500);
     cd_rwlock_rdlock(&lm->lock);
