/* Answer key, await: an awaitable session lock (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await.c
@@ -28,3 +28,3 @@
 struct session {
-    cd_mutex_t lock;  /* guards the cart */
+    cd_amutex_t lock; /* FIX: an awaitable lock: waiting parks the task */
 };
@@ -34,3 +34,3 @@
 {
-    return cd_mutex_init(&s->lock, name);
+    return cd_amutex_init(&s->lock, name);
 }
@@ -39,3 +39,3 @@
 {
-    cd_mutex_destroy(&s->lock);
+    cd_amutex_destroy(&s->lock);
 }
@@ -62,7 +62,7 @@
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
