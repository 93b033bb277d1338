package flow

import "strings"

// model says how a framework call moves taint beyond the default (result
// and mutated receiver take the union of the arguments).
type model uint8

const (
	modelDefault       model = iota
	modelExtrasPut           // Intent/Bundle put*(key, value): the extra cell by key
	modelExtrasGet           // Intent/Bundle get*(key): the extra cell by key
	modelArrayCopy           // System.arraycopy(src, _, dst, _, _)
	modelAsyncExec           // AsyncTask.execute(args) → doInBackground(args)
	modelNoPropagate         // the result carries no data of the arguments
	modelReflectInvoke       // Method.invoke(obj, args): obj may store args; the result carries both
	modelCopyInto            // String.getChars(b, e, dst, i): the receiver's data into dst
)

// channels are framework queues that carry data between an app's own
// components or threads: what one side puts, the other side gets (a
// Handler's messages, an ordered broadcast's result). Keyed by the
// framework class and method; the value names the channel's cell.
var channelPuts = map[string]string{
	"Landroid/os/Messenger;->send":                         "Handler message",
	"Landroid/os/Handler;->sendMessage":                    "Handler message",
	"Landroid/os/Handler;->sendMessageDelayed":             "Handler message",
	"Landroid/os/Handler;->sendMessageAtTime":              "Handler message",
	"Landroid/os/Handler;->sendMessageAtFrontOfQueue":      "Handler message",
	"Landroid/os/Message;->sendToTarget":                   "Handler message",
	"Landroid/content/BroadcastReceiver;->setResultData":   "ordered broadcast result",
	"Landroid/content/BroadcastReceiver;->setResultExtras": "ordered broadcast result",
	"Landroid/content/BroadcastReceiver;->setResult":       "ordered broadcast result",
}

var channelGets = map[string]string{
	"Landroid/content/BroadcastReceiver;->getResultData":   "ordered broadcast result",
	"Landroid/content/BroadcastReceiver;->getResultExtras": "ordered broadcast result",
}

// channelCallbacks are the app methods a channel delivers to, by name and
// parameter type.
var channelCallbacks = map[string]string{
	"handleMessage(Landroid/os/Message;)": "Handler message",
}

// containerClasses hold elements by index or key; a constant index or key
// keeps elements apart (see keyedCall).
var containerClasses = map[string]bool{
	"Ljava/util/List;": true, "Ljava/util/ArrayList;": true, "Ljava/util/LinkedList;": true, "Ljava/util/Vector;": true,
	"Ljava/util/Map;": true, "Ljava/util/HashMap;": true, "Ljava/util/LinkedHashMap;": true, "Ljava/util/TreeMap;": true,
	"Ljava/util/Hashtable;": true, "Ljava/util/concurrent/ConcurrentHashMap;": true, "Ljava/util/AbstractMap;": true,
	"Ljava/util/AbstractList;": true,
}

// containerType says whether a field or allocation of type t holds elements
// the analysis can key: an object array or a container class.
func containerType(t string) bool {
	return strings.HasPrefix(t, "[L") || strings.HasPrefix(t, "[[") || containerClasses[t]
}

// keyedCall classifies container calls by key: List.get(i), Map.get(k)
// read; List.set(i, v), Map.put(k, v) write. stringKey says the key is a
// map key (folded by the constant pass), else an int index.
func keyedCall(class, name, desc string) (read, write, stringKey bool) {
	if !containerClasses[class] {
		return false, false, false
	}
	switch {
	case name == "get" && desc == "(I)Ljava/lang/Object;":
		return true, false, false
	case name == "set" && desc == "(ILjava/lang/Object;)Ljava/lang/Object;":
		return false, true, false
	case name == "get" && desc == "(Ljava/lang/Object;)Ljava/lang/Object;":
		return true, false, true
	case name == "put" && desc == "(Ljava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;":
		return false, true, true
	}
	return false, false, false
}

// writeThrough are wrappers whose constructor takes the object they write
// into (a Formatter's Appendable, a Writer's stream): what is written to
// the wrapper reaches that object.
var writeThrough = map[string]bool{
	"Ljava/util/Formatter;": true, "Ljava/io/PrintWriter;": true, "Ljava/io/PrintStream;": true,
	"Ljava/io/OutputStreamWriter;": true, "Ljava/io/BufferedWriter;": true, "Ljava/io/BufferedOutputStream;": true,
	"Ljava/io/DataOutputStream;": true, "Ljava/io/ObjectOutputStream;": true, "Ljava/io/FilterOutputStream;": true,
	"Ljava/util/zip/GZIPOutputStream;": true, "Ljava/util/zip/DeflaterOutputStream;": true, "Ljavax/crypto/CipherOutputStream;": true,
}

// wraps says whether a call is a write-through wrapper's constructor given
// the object it writes into (not a file name).
func wraps(class, name string, params []string) bool {
	return name == "<init>" && writeThrough[class] && len(params) > 0 && strings.HasPrefix(params[0], "L") &&
		params[0] != "Ljava/lang/String;" && params[0] != "Ljava/io/File;"
}

// extrasClasses hold key → value extras that cross components.
var extrasClasses = map[string]bool{
	"Landroid/content/Intent;":        true,
	"Landroid/os/Bundle;":             true,
	"Landroid/os/BaseBundle;":         true,
	"Landroid/os/PersistableBundle;":  true,
	"Landroid/content/ContentValues;": true,
}

// noPropagate are framework methods whose result says something about the
// arguments (a size, a comparison) without carrying them.
var noPropagate = map[string]bool{
	"length": true, "size": true, "hashCode": true, "indexOf": true, "lastIndexOf": true, "compareTo": true,
	"compareToIgnoreCase": true, "getClass": true, "getSystemService": true, "getApplicationContext": true,
	"getContentResolver": true, "getPackageManager": true, "getResources": true, "findViewById": true,
	"getIntent": true, "getDefault": true, "getInstance": true, "currentTimeMillis": true, "nanoTime": true,
	"getMainLooper": true, "getBaseContext": true, "getActivity": true, "getContext": true,
}

// mutatorPrefixes name framework methods that store their arguments in the
// receiver (builders, collections, streams, setters).
var mutatorPrefixes = []string{"put", "add", "append", "set", "write", "insert", "push", "offer", "print", "update", "<init>", "load", "concat", "store"}

func classify(class, name, ret string, params []string) (m model, mutates bool) {
	for _, p := range mutatorPrefixes {
		if strings.HasPrefix(name, p) {
			mutates = true
			break
		}
	}
	switch {
	case (name == "getChars" || (name == "getBytes" && len(params) == 4)) && (class == "Ljava/lang/String;" || class == "Ljava/lang/StringBuilder;" || class == "Ljava/lang/StringBuffer;"):
		return modelCopyInto, false
	case class == "Ljava/util/Formatter;" && name == "format",
		class == "Ljava/lang/ProcessBuilder;" && name == "command":
		return modelDefault, true
	case class == "Ljava/lang/System;" && name == "arraycopy":
		return modelArrayCopy, false
	case class == "Ljava/lang/reflect/Method;" && name == "invoke":
		// The invoked method is unknown (named by a string): assume it may
		// store its arguments in obj (a setter) and return them (a getter).
		return modelReflectInvoke, false
	case extrasClasses[class] && strings.HasPrefix(name, "put") && len(params) >= 2 && params[0] == "Ljava/lang/String;":
		return modelExtrasPut, true
	case extrasClasses[class] && strings.HasPrefix(name, "get") && len(params) >= 1 && params[0] == "Ljava/lang/String;":
		return modelExtrasGet, false
	case (name == "execute" || name == "executeOnExecutor") && ret == "Landroid/os/AsyncTask;":
		return modelAsyncExec, false
	case ret == "Z" || ret == "V" || noPropagate[name]:
		return modelNoPropagate, mutates
	}
	return modelDefault, mutates
}

// icc sinks reached through an app class (this.startActivity(...)) are
// looked up on these framework bases as well.
var contextBases = []string{"Landroid/app/Activity;", "Landroid/content/ContextWrapper;", "Landroid/content/Context;", "Landroid/app/Service;"}
