/* Decoy await-sleep-first: each request awaits 10 ms before locking, for the other request to finish first. Fails: both wait the same, then one blocks the worker anyway: "your fix depends on timing". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-sleep-first.c
@@ -60,6 +60,7 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 void add_item(session_t *s, cart_t *c)
 {
+    cd_await_latency("let-the-other-finish", 10000);
     cd_mutex_lock(&s->lock);                /* a blocking lock... */
     int copy = ++c->items;
     await_db_save();                        /* ...held across an await */
