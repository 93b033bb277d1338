.class public Lcom/example/flowcases/Base64Url;
.super Ljava/lang/Object;
.source "Base64Url.java"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Ljava/lang/Object;-><init>()V

    return-void
.end method

# Case 2: the URL is a Base64 constant decoded with android.util.Base64 ("https://b64.example-telemetry.cn/beacon").
.method public static run()V
    .registers 3

    const-string v0, "aHR0cHM6Ly9iNjQuZXhhbXBsZS10ZWxlbWV0cnkuY24vYmVhY29u"

    const/4 v1, 0x0

    invoke-static {v0, v1}, Landroid/util/Base64;->decode(Ljava/lang/String;I)[B

    move-result-object v0

    new-instance v1, Ljava/lang/String;

    invoke-direct {v1, v0}, Ljava/lang/String;-><init>([B)V

    new-instance v0, Ljava/net/URL;

    invoke-direct {v0, v1}, Ljava/net/URL;-><init>(Ljava/lang/String;)V

    invoke-virtual {v0}, Ljava/net/URL;->openConnection()Ljava/net/URLConnection;

    move-result-object v0

    invoke-virtual {v0}, Ljava/net/URLConnection;->connect()V

    return-void
.end method
