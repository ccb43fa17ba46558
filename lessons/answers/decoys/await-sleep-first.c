/* Decoy await-sleep-first: each request awaits 10 ms before locking, for the other request to finish first. Fails: both wait the same, then one blocks the worker anyway: "your fix depends on timing". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-sleep-first.c
@@ -51,6 +51,7 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 static void add_item(session_t *s)
 {
+    cd_await_latency("let-the-other-finish", 10000);
     cd_mutex_lock(&s->lock);                /* a blocking lock... */
     int copy = ++s->items;
     cd_await_latency("db-save", SAVE_USEC); /* ...held across an await */
