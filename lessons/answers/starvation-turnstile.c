/* Another answer, starvation: a turnstile - a mutex every request passes through before the read lock, and that the trimmer holds while it waits for the write lock - in front of the same reader-preferring lock (the lines marked FIX). */
--- lessons/exercises/starvation.c
+++ lessons/answers/starvation-turnstile.c
@@ -21,2 +21,3 @@
 
+#include "cd_mutex.h"
 #include "cd_registry.h"
@@ -29,2 +30,3 @@
     cd_rwlock_t lock;
+    cd_mutex_t turnstile; /* FIX: the trimmer holds it while it waits */
 };
@@ -36,2 +38,4 @@
      * even while a writer waits. */
+    if (cd_mutex_init(&lm->turnstile, "turnstile") != 0) /* FIX */
+        return -1;
     return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
@@ -42,2 +46,3 @@
     cd_rwlock_destroy(&lm->lock);
+    cd_mutex_destroy(&lm->turnstile);
 }
@@ -63,2 +68,4 @@
 {
+    cd_mutex_lock(&lm->turnstile);   /* FIX: pass through the turnstile: */
+    cd_mutex_unlock(&lm->turnstile); /* a waiting trimmer holds it shut */
     cd_rwlock_rdlock(&lm->lock);
@@ -71,5 +78,7 @@
 {
-    cd_rwlock_wrlock(&lm->lock);
+    cd_mutex_lock(&lm->turnstile);   /* FIX: no new reader gets in now */
+    cd_rwlock_wrlock(&lm->lock);     /* only the readers inside finish */
     drop_expired();
     cd_rwlock_unlock(&lm->lock);
+    cd_mutex_unlock(&lm->turnstile); /* FIX */
 }
