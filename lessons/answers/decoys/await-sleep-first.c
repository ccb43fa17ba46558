/* Decoy await-sleep-first: each request awaits 10 ms before locking, for the other request to finish first. Fails: both wait the same, then one blocks the worker anyway: "your fix depends on timing". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-sleep-first.c
@@ -62,2 +62,3 @@
 {
+    cd_await_latency("let-the-other-finish", 10000);
     cd_mutex_lock(&s->lock);                /* a blocking lock... */
