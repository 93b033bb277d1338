.class public Lcom/example/flowcases/XorHost;
.super Ljava/lang/Object;
.source "XorHost.java"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Ljava/lang/Object;-><init>()V

    return-void
.end method

# Case 3: the host "xor.example-telemetry.cn" is a fill-array-data byte array XOR-ed with the constant key 0x5a.
.method public static run()V
    .registers 5

    const/16 v0, 0x18

    new-array v0, v0, [B

    fill-array-data v0, :host_bytes

    const/4 v1, 0x0

    :loop
    array-length v2, v0

    if-ge v1, v2, :done

    aget-byte v2, v0, v1

    xor-int/lit8 v2, v2, 0x5a

    int-to-byte v2, v2

    aput-byte v2, v0, v1

    add-int/lit8 v1, v1, 0x1

    goto :loop

    :done
    new-instance v1, Ljava/lang/String;

    invoke-direct {v1, v0}, Ljava/lang/String;-><init>([B)V

    new-instance v2, Ljava/net/Socket;

    const/16 v3, 0x1bb

    invoke-direct {v2, v1, v3}, Ljava/net/Socket;-><init>(Ljava/lang/String;I)V

    invoke-virtual {v2}, Ljava/net/Socket;->close()V

    return-void

    :host_bytes
    .array-data 1
        0x22t
        0x35t
        0x28t
        0x74t
        0x3ft
        0x22t
        0x3bt
        0x37t
        0x2at
        0x36t
        0x3ft
        0x77t
        0x2et
        0x3ft
        0x36t
        0x3ft
        0x37t
        0x3ft
        0x2et
        0x28t
        0x23t
        0x74t
        0x39t
        0x34t
    .end array-data
.end method
