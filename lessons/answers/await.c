/* Answer key, await: an awaitable session lock (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await.c
@@ -33,29 +33,29 @@
 typedef struct session {
     int items;        /* the cart in memory */
     int saved_items;  /* the cart as the database last stored it */
-    cd_mutex_t lock;  /* guards items and saved_items */
+    cd_amutex_t lock; /* FIX: an awaitable lock: waiting parks the task */
 } session_t;
 
 /* Sets up a session's lock before the requests start: 0, or -1. */
 static int session_init(session_t *s, const char *name)
 {
-    return cd_mutex_init(&s->lock, name);
+    return cd_amutex_init(&s->lock, name);
 }
 
 static void session_destroy(session_t *s)
 {
-    cd_mutex_destroy(&s->lock);
+    cd_amutex_destroy(&s->lock);
 }
 
 /* One request (an async task): adds an item to the cart and saves it.
  * The save awaits the database (5 ms): the worker runs other tasks. */
 static void add_item(session_t *s)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
-    int copy = ++s->items;
-    cd_await_latency("db-save", SAVE_USEC); /* ...held across an await */
+    cd_amutex_lock(&s->lock);               /* FIX: a second request */
+    int copy = ++s->items;                  /* parks here, and the */
+    cd_await_latency("db-save", SAVE_USEC); /* worker resumes the first */
     s->saved_items = copy;
-    cd_mutex_unlock(&s->lock);
+    cd_amutex_unlock(&s->lock);             /* FIX */
 }
 
 /* ============================ end of your code =========================== */
