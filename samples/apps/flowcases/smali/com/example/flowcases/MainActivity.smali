.class public Lcom/example/flowcases/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Landroid/app/Activity;-><init>()V

    return-void
.end method


# virtual methods
.method protected onCreate(Landroid/os/Bundle;)V
    .registers 2

    invoke-super {p0, p1}, Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V

    invoke-static {}, Lcom/example/flowcases/StringBuilderUrl;->run()V

    invoke-static {}, Lcom/example/flowcases/Base64Url;->run()V

    invoke-static {}, Lcom/example/flowcases/XorHost;->run()V

    invoke-static {p0}, Lcom/example/flowcases/SplitSocket;->run(Landroid/content/Context;)V

    invoke-static {p0}, Lcom/example/flowcases/StaticField;->collect(Landroid/content/Context;)V

    invoke-static {}, Lcom/example/flowcases/StaticField;->send()V

    invoke-static {p0}, Lcom/example/flowcases/HelperMethod;->run(Landroid/content/Context;)V

    invoke-static {p0}, Lcom/example/flowcases/second/SubscriberLeak;->run(Landroid/content/Context;)V

    invoke-static {p0}, Lcom/example/flowcases/DecoyCompare;->isTestDevice(Landroid/content/Context;)Z

    invoke-static {}, Lcom/example/flowcases/DecoyUnusedEndpoint;->describe()I

    return-void
.end method
