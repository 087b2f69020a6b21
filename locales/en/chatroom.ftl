## chatroom: English (the reference locale; its ids are the contract).
## Lines the server sends as system notices get "* " in front from the code,
## so these texts never start with it.

## The administrator, as members see them. Reserved as a nickname.
admin-name = Administrator

## Joining

greeting = Welcome to chatroom.
name-prompt = Choose a nickname (letters, digits, _ - .), or /help:
name-too-long = That nickname is too long: at most { $max } characters.
name-bad-characters = A nickname may only use letters, digits and _ - . (no spaces or symbols).
name-taken = The nickname { $name } is already taken. Try another one.
name-reserved = The nickname { $name } is reserved. Try another one.
join-first = Choose a nickname first: { $command } works once you have joined. Until then you can use /help and /quit.
welcome =
    Welcome, { $name }! { $others ->
        [one] There is 1 other person here.
       *[other] There are { $others } other people here.
    } Type /help for the commands.

## Room traffic

joined = { $name } joined the room.
left-quit = { $name } left the room.
left-lost = { $name } lost the connection and left the room.
left-too-slow = { $name } fell too far behind and was disconnected.
left-flood = { $name } kept flooding the room and was disconnected.
chat-line = { $name }: { $text }
admin-line = { admin-name }: { $text }
private-line = (private) { $name }: { $text }

## Replies to commands

private-sent = Private message sent to { $name }.
private-usage = Usage: /msg NAME TEXT (or @NAME TEXT).
private-to-self = That is you. Private messages go to someone else.
no-such-member = No one named { $name } is here. Type /list to see who is.
members =
    { $count ->
        [one] 1 person here
       *[other] { $count } people here
    }: { $names }
list-separator = {", "}
help =
    Commands:
      /help               this help
      /list  (/ls, /who)  who is here
      /msg NAME TEXT      a private message to NAME (also: @NAME TEXT)
      /quit               leave the room
      //text              send a message that starts with /
    Any other line is sent to everyone in the room.
unknown-command = Unknown command { $command }. Type /help for the list of commands.
line-too-long = Your line was longer than { $max } bytes and was not sent.
bye = Goodbye!
too-slow = You fell too far behind the room and are being disconnected.
flood-held = You are sending too fast. Your lines are held back and will follow, in order, a little slower.
flooded = You kept sending too fast and are being disconnected.
name-timeout = No name was chosen within { $seconds } seconds. Goodbye.
address-full = Too many connections from your address (at most { $max }). Close one and try again.
room-full = The room is full ({ $max } connections). Please try again later.
room-closed = The chat room was closed by the administrator.

## The server's console and log (its standard output)

server-listening = chatroom server listening on { $addr }
console-ready = Type a line to speak to everyone as { admin-name }; an empty line closes the room.
console-unavailable = No console: standard input cannot be watched, so the room runs until SIGINT or SIGTERM.
console-detached = The console reached end of input; the room keeps running until SIGINT or SIGTERM.
log-connected = Connection { $id } from { $addr }.
log-closed = Connection { $id } from { $addr } closed.
log-signal = Received { $signal }.
log-accept-failed = Cannot accept a connection: { $reason }
log-private = { $from } sent a private message to { $to }.

## Errors (printed after the program's name)

error-bind = cannot listen on { $addr }: { $reason }
error-resolve = cannot resolve the address { $addr }: { $reason }
error-event-loop = the event loop failed: { $reason }
error-settings-read = cannot read the settings file { $path }: { $reason }
error-settings-parse = the settings file { $path } is not valid: { $reason }
error-settings-value = in { $path }, { $key } = { $value } is not allowed: { $allowed }
error-settings-unknown-key = in { $path }, { $key } is not a setting (the settings there are: { $known })
allowed-languages = the languages are { $list }
allowed-positive = a whole number of 1 or more
allowed-whole = a whole number of 0 or more (0 turns it off)
allowed-port = a port number from 0 to 65535
allowed-host = a host name or address in quotes, such as "127.0.0.1"
allowed-table = a table, such as [server]
allowed-queue = a number of bytes at least twice max_line_bytes ({ $min })

## Reasons for I/O errors

reason-refused = connection refused
reason-reset = the connection was reset
reason-timeout = no answer in time
reason-in-use = the address is already in use
reason-not-available = the address is not available on this machine
reason-permission = permission denied
reason-not-found = not found
reason-unknown-host = no such host is known
reason-unreachable = the network or host is unreachable

## The client

client-connected = Connected to { $host }:{ $port }. Press Enter on an empty line to leave.
client-connect-failed = cannot connect to { $host }:{ $port }: { $reason }. Is chatroom-server running there? Choose another server with --host and --port.
client-resolve-failed = cannot find the host { $host }: { $reason }. Check the name, or try --host 127.0.0.1.
client-goodbye = You left the room. Goodbye!
client-server-closed = The server closed the connection.
client-connection-lost = the connection to the server broke: { $reason }
