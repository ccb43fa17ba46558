/* Answer key, await: an awaitable session lock (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await.c
@@ -26,18 +26,18 @@
 
 /* One user's session. Change the lock if your fix needs another kind. */
 struct session {
-    cd_mutex_t lock;  /* guards the cart */
+    cd_amutex_t lock; /* FIX: an awaitable lock: waiting parks the task */
 };
 
 /* Sets up a session's lock before the requests start: 0, or -1. */
 static int session_init(session_t *s, const char *name)
 {
-    return cd_mutex_init(&s->lock, name);
+    return cd_amutex_init(&s->lock, name);
 }
 
 static void session_fini(session_t *s)
 {
-    cd_mutex_destroy(&s->lock);
+    cd_amutex_destroy(&s->lock);
 }
 
 session_t *session_create(const char *name)
@@ -60,9 +60,9 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 void add_item(session_t *s, cart_t *c)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
-    int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    cd_amutex_lock(&s->lock);               /* FIX: a second request */
+    int copy = ++c->items;                  /* parks here, and the */
+    await_db_save();                        /* worker resumes the first */
     c->saved_items = copy;
-    cd_mutex_unlock(&s->lock);
+    cd_amutex_unlock(&s->lock);             /* FIX */
 }
