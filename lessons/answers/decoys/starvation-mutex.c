/* Decoy starvation-mutex: a plain mutex in place of the reader-writer lock, so that readers queue with the trimmer instead of walking past it. Fails: requests that only read no longer read together, and a plain mutex is no fairer to the trimmer than the old lock: "reads went in ahead of it". */
--- lessons/exercises/starvation.c
+++ lessons/answers/decoys/starvation-mutex.c
@@ -21,2 +21,3 @@
 
+#include "cd_mutex.h"
 #include "cd_registry.h"
@@ -28,3 +29,4 @@
 struct limiter {
-    cd_rwlock_t lock;
+    cd_rwlock_t lock; /* no longer used */
+    cd_mutex_t mutex; /* one thread in the window at a time */
 };
@@ -36,2 +38,4 @@
      * even while a writer waits. */
+    if (cd_mutex_init(&lm->mutex, "window-mutex") != 0)
+        return -1;
     return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
@@ -42,2 +46,3 @@
     cd_rwlock_destroy(&lm->lock);
+    cd_mutex_destroy(&lm->mutex);
 }
@@ -63,5 +68,5 @@
 {
-    cd_rwlock_rdlock(&lm->lock);
+    cd_mutex_lock(&lm->mutex); /* readers queue with the trimmer */
     read_window(index);
-    cd_rwlock_unlock(&lm->lock);
+    cd_mutex_unlock(&lm->mutex);
 }
@@ -71,5 +76,5 @@
 {
-    cd_rwlock_wrlock(&lm->lock);
+    cd_mutex_lock(&lm->mutex);
     drop_expired();
-    cd_rwlock_unlock(&lm->lock);
+    cd_mutex_unlock(&lm->mutex);
 }
