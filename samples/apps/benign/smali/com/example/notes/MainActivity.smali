.class public Lcom/example/notes/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"


# static fields
.field public static final HELP_URL:Ljava/lang/String; = "https://developer.android.com/"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Landroid/app/Activity;-><init>()V

    return-void
.end method

.method public static helpUrl()Ljava/lang/String;
    .registers 1

    # A documentation link shown to the user; nothing loads it.
    const-string v0, "https://developer.android.com/"

    return-object v0
.end method


# virtual methods
.method protected onCreate(Landroid/os/Bundle;)V
    .registers 3

    invoke-super {p0, p1}, Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V

    const-string v0, "Notes"

    invoke-virtual {p0, v0}, Lcom/example/notes/MainActivity;->setTitle(Ljava/lang/CharSequence;)V

    invoke-static {p0}, Lcom/example/notes/NoteStore;->count(Landroid/content/Context;)I

    return-void
.end method
