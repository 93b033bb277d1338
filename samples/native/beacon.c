/*
 * beacon.c - the native half of the nativeurl sample app (lib/x86_64/libbeacon.so).
 *
 * It only has to carry endpoint strings in .rodata for a scanner to find, and export JNI-named symbols that the
 * Java side (com.example.nativeurl.Beacon) declares as native methods. It is a stand-in, never run: a real JNI
 * method would take a JNIEnv* and return a jstring made with NewStringUTF. Plain pointers keep the build free of
 * JDK or NDK headers.
 */

static const char config_url[] = "http://sdkconfig.ad.intl.xiaomi.com/api";
static const char fallback_host[] = "42.62.48.20";

const char *Java_com_example_nativeurl_Beacon_configUrl(void *env, void *clazz)
{
	(void)env;
	(void)clazz;
	return config_url;
}

const char *Java_com_example_nativeurl_Beacon_fallbackHost(void *env, void *clazz)
{
	(void)env;
	(void)clazz;
	return fallback_host;
}
