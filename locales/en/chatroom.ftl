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
join-first = Choose a nickname first: { $command } works once you have joined. Until then you can use /help, /lang and /quit.
welcome =
    Welcome, { $name }! { $others ->
        [one] There is 1 other person here.
       *[other] There are { $others } other people here.
    } Type /help for the commands.

## Room traffic

joined = { $name } joined the room ({ $count ->
        [one] 1 person
       *[other] { $count } people
    } here now).
left-quit = { $name } left the room after { $stayed }.
left-lost = { $name } lost the connection and left the room after { $stayed }.
left-too-slow = { $name } fell too far behind and was disconnected after { $stayed }.
left-flood = { $name } kept flooding the room and was disconnected after { $stayed }.
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
      /reply TEXT  (/r)   a private answer to whoever last wrote to you privately
      /query NAME         send your lines privately to NAME; /query alone ends it
      /me TEXT            an action, shown as "** yourname TEXT"
      /nick NEWNAME       change your nickname
      /mute, /unmute      stop or start seeing chat lines and actions (/i toggles)
      /ignore NAME        stop seeing NAME's lines and private messages; /ignore alone lists them
      /unignore NAME      see NAME again
      /away [REASON]      mark yourself away; /back when you return
      /whois NAME         who NAME is: time in the room, idle time, away, language
      /motd               the message of the day
      /lang LANGUAGE      read the room in another language (en, zh-CN)
      /timestamps on|off  show the time before room lines, or not
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
log-broker-connected = connected to the broker at { $addr }, room { $room }
log-broker-unreachable = cannot reach the broker at { $addr }: { $reason }; trying again in { $seconds } s
log-broker-lost = lost the broker at { $addr }: { $reason }
log-broker-refused = the broker at { $addr } refused a command: { $error }
log-room-joined = in room { $room }: { $members } members on { $servers } other servers
log-server-lost = server { $server } stopped renewing its lease: its { $count } members are announced as lost
log-server-declared-lost = the other servers declared this server lost (the broker was out of reach for longer than lease_secs): its members were disconnected

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
reason-closed = the other side closed the connection
reason-garbled = the other side sent what this program cannot read
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

## chatroom-bench

bench-error-no-server = cannot find chatroom-server next to this program ({ $reason }); name it with --server PATH.
bench-error-resolve = cannot resolve the address { $addr }: { $reason }
bench-error-not-loopback = { $addr } is not on this machine: chatroom-bench only measures servers on loopback (127.0.0.1 or ::1).
bench-error-members = this scenario needs at least { $min } members who read and chat (--members { $members }, --stalled { $stalled }).
bench-error-lines = --lines must be 1 or more.
bench-error-rate = --rate and --duration must give at least one line.
bench-error-size = --size must be from { $min } to { $max } bytes: a line carries its sender, number and send time.
bench-error-seconds = { $value } is not a number of seconds.
bench-error-too-big = tracking every delivery of this run would take { $mib } MiB (at most { $limit } MiB); use fewer members or lines.
bench-error-temp-file = cannot write the server's settings to { $path }: { $reason }
bench-error-spawn = cannot start the server { $path }: { $reason }
bench-error-server-exited = the server { $path } exited before it was listening ({ $status }).
bench-error-server-silent = the server { $path } did not say where it listens within { $secs } seconds.
bench-error-connect = cannot connect to { $addr }: { $reason }
bench-error-join = only { $joined } of { $members } members joined within { $secs } seconds ({ $failed } connections failed).
bench-error-io = the event loop failed: { $reason }
bench-note-settle = the join notices stopped at { $got } of { $expected }; measuring anyway.
bench-phase-join = joining
bench-phase-settle = settling
bench-phase-send = sending
bench-phase-drain = draining
bench-phase-check = checking the stalled members
bench-progress-join = { $phase } ({ $secs } s): { $joined }/{ $members } joined, { $notices } join notices received
bench-progress-chat = { $phase } ({ $secs } s): { $sent }/{ $lines } lines sent, { $delivered }/{ $expected } delivered
bench-report-title = chatroom-bench: { $scenario }, { $members } members, server { $addr } (pid { $pid })
bench-row-joined = members joined
bench-row-join-time = time until all joined (s)
bench-row-announced = join notices received / expected
bench-row-announce-time = time until every join reached everyone (s)
bench-row-server-cpu-joining = server CPU while joining (s)
bench-row-bench-cpu-joining = bench CPU while joining (s)
bench-row-sent = chat lines sent
bench-row-expected = deliveries expected
bench-row-delivered = delivered
bench-row-lost = lost
bench-row-duplicated = duplicated
bench-row-out-of-order = out of order
bench-row-garbled = garbled
bench-row-foreign = other lines (not from the bench)
bench-row-disconnected = chatting members disconnected
bench-row-dropped = members dropped by the server (chatting and stalled)
bench-row-too-slow-announced = members announced as too slow
bench-row-stalled = stalled members that saw their connection end
bench-row-stalled-announced = stalled members announced as gone
bench-row-stalled-backlog = backlog of a stalled member at the end (KiB, mean)
bench-row-later-notices = notices received while sending and after
bench-row-window = first send to last delivery (s)
bench-row-rate = deliveries per second
bench-row-latency = latency p50 / p99 / p99.9 / max (ms)
bench-row-server-cpu = server CPU while sending and draining (s)
bench-row-cpu-per-delivery = server CPU per delivery (µs)
bench-row-peak-rss = server peak memory (MiB)
bench-row-rss-empty = server memory, empty room (MiB)
bench-row-rss-joined = server memory, all joined (MiB)
bench-row-rss-per-member = server memory per member (KiB)
bench-row-bench-cpu = bench CPU while sending and draining (s)
bench-unknown = n/a
bench-verdict-ok = OK: every line arrived once, in order and intact.
bench-verdict-failed = FAILED: lines were lost, duplicated, reordered or garbled.

## client terminal

allowed-bell = "mentions", "all" or "off"
client-still-waiting = Still waiting for { $server } to say something. Is it a chatroom server?
console-prompt = To everyone as { admin-name } (an empty line closes the room)

## settings and log

error-settings-not-file = { $path } is not a regular file: settings are read only from a file of at most { $max } bytes.
error-settings-too-big = the settings file { $path } is over { $max } bytes: is it the right file?
log-dropped =
    { $count ->
        [one] 1 log line was dropped: standard output did not keep up.
       *[other] { $count } log lines were dropped: standard output did not keep up.
    }
error-settings-parse-at = the settings file { $path } is not valid at line { $line }, column { $column }: { $reason }
error-settings-value-at = in { $path }, line { $line }, column { $column }: { $key } = { $value } is not allowed: { $allowed }
error-settings-unknown-key-at = in { $path }, line { $line }, column { $column }: { $key } is not a setting (the settings there are: { $known })
allowed-at-least = a whole number of { $min } or more
allowed-seconds = a whole number of seconds from 0 to { $max } (0 turns it off)
allowed-bool = true or false, without quotes
allowed-text = text in quotes, on one line, without control characters
allowed-path = a file path in quotes, or "" for none
allowed-redis-url = "redis://HOST:PORT" in quotes (no password or database), or "" for a standalone server
allowed-room-name = a name in quotes of 1 to 64 letters, digits, "-", "_" or "."
allowed-lease-seconds = a whole number of seconds from 1 to { $max }
allowed-choice = one of { $list }, in quotes

## member commands

action-line = ** { $name } { $text }
renamed = { $old } is now known as { $new }.
nick-set = You are now known as { $name }.
usage-nick = Usage: /nick NEWNAME
usage-me = Usage: /me TEXT (the others see "** yourname TEXT").
usage-reply = Usage: /reply TEXT (or /r TEXT) answers whoever last wrote to you privately.
usage-query = Usage: /query NAME sends your lines privately to NAME; /query alone ends it.
usage-unignore = Usage: /unignore NAME
usage-whois = Usage: /whois NAME
usage-timestamps = Usage: /timestamps on, or /timestamps off.
no-one-to-reply = Nobody here has written to you privately (or they have left). Use /msg NAME TEXT.
query-started = Your lines now go privately to { $name } only. Type /query alone to talk to the room again.
query-ended = Your private conversation with { $name } has ended: your lines go to the room again.
query-renamed = { $old } is now { $new }; your private conversation continues.
query-partner-left = { $name } left, so your private conversation has ended: your lines go to the room again.
muted-room = You muted the room: chat lines and actions no longer reach you. Private messages and notices still do. Type /unmute (or /i) to undo.
unmuted-room = You unmuted the room: chat lines and actions reach you again.
still-muted = Not sent: you muted the room. Type /unmute (or /i) to see it and talk again.
ignoring = You now ignore { $name }: their lines, actions and private messages will not reach you. /unignore { $name } undoes it.
unignored = You no longer ignore { $name }.
not-ignoring = You were not ignoring { $name }.
ignore-list = { $count ->
        [0] You ignore nobody.
        [one] You ignore 1 person: { $names }
       *[other] You ignore { $count } people: { $names }
    }
ignore-self = You cannot ignore yourself.
away-set = You are marked as away. Type /back when you return.
away-set-reason = You are marked as away ({ $reason }). Type /back when you return.
back = Welcome back: you are no longer marked as away.
peer-away = { $name } is away: { $reason }
peer-away-no-reason = { $name } is away.
list-away = { $name } (away: { $reason })
list-away-no-reason = { $name } (away)
whois = { $name } has been in the room for { $in_room } and idle for { $idle }, and reads { $language }.
whois-here = { $name } is not away.
motd = Message of the day: { $text }
no-motd = There is no message of the day.
lang-set = From now on you read this room in English.
lang-unknown = There is no language { $asked } here. The languages are { $list }; type, for example, /lang zh-CN.
lang-usage = Usage: /lang LANGUAGE, where LANGUAGE is one of { $list }.
language-name = { $tag ->
        [en] English
        [zh-CN] 简体中文
       *[other] { $tag }
    }
timestamps-on = Room lines now reach you with the time in front, as [HH:MM].
timestamps-off = Room lines now reach you without the time.
history = { $count ->
        [one] The last line said in the room:
       *[other] The last { $count } lines said in the room:
    }
duration-seconds = { $n ->
        [one] 1 second
       *[other] { $n } seconds
    }
duration-minutes = { $n ->
        [one] 1 minute
       *[other] { $n } minutes
    }
duration-hours = { $hours ->
        [one] 1 hour
       *[other] { $hours } hours
    }
duration-hours-minutes = { $hours ->
        [one] 1 hour
       *[other] { $hours } hours
    } { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }
bench-error-mix = --mix works with the burst and idle scenarios only: there every member reads and sends the same number of lines, so what mute and ignore remove is known.
bench-row-skipped = deliveries removed by mute and ignore (--mix)
bench-error-pids = { $pids } process ids (--pid) for { $servers } servers (--addr): at most one per server.
bench-error-server-not-joined = the server { $path } did not join its bridged room within { $secs } seconds; its last line: { $line }
bench-error-server-exited-joining = the server { $path } exited before it joined its bridged room ({ $status }); its last line: { $line }
bench-error-broker-spawn = cannot start the broker { $path }: { $reason }; install redis-server or name it with --redis-server PATH.
bench-error-broker-failed = the broker { $path } did not start on a free port in { $tries } tries; its last log line: { $line }
bench-report-title-bridged = chatroom-bench: { $scenario }, { $members } members over { $servers } servers of one bridged room ({ $addrs }; pids { $pids }; broker { $broker })
bench-row-broker-cpu = broker CPU while sending and draining (s)
bench-row-broker-peak-rss = broker peak memory (MiB)

## operator console

left-kicked = { $name } was removed from the room by the administrator after { $stayed }.
left-kicked-reason = { $name } was removed from the room by the administrator after { $stayed }: { $reason }
left-banned = { $name } was banned from the room by the administrator after { $stayed }.
kicked-you = The administrator removed you from the room.
kicked-you-reason = The administrator removed you from the room: { $reason }
banned-you = The administrator banned you from the room { $how_long }.
banned-you-reason = The administrator banned you from the room { $how_long }: { $reason }
silenced-you = The administrator muted you: you can still read the room, but not speak.
unsilenced-you = The administrator unmuted you: you can speak again.
silenced = Not sent: the administrator muted you.
broker-down = The room's other servers cannot be reached right now: what you send is refused until they are back.
broker-back = The whole room is reachable again.
cut-off = This server was out of touch with the rest of the room for too long, and the room let you go. Connect again to rejoin.
not-sent = Not sent: the room's other servers cannot be reached right now. Try again in a moment.
name-banned = The name { $name } is banned { $how_long }. Choose another.
address-banned = Your address is banned from this room { $how_long }.
ban-minutes = { $n ->
        [one] for 1 more minute
       *[other] for { $n } more minutes
    }
ban-forever = until the administrator lifts the ban
console-help =
    Console commands (a line without / goes to everyone; an empty line closes the room):
      /help                                 this help
      /list                                 members, their addresses, time in the room, away, muted
      /kick NAME [REASON]                   remove a member
      /ban NAME|ADDRESS[/PREFIX] [MINUTES] [REASON]
                                            ban a name (and its address) or addresses; no MINUTES: until unbanned
      /unban NAME|ADDRESS                   lift a ban
      /bans                                 the bans in force
      /mute NAME, /unmute NAME              stop or let a member speak
      /motd [TEXT]                          set the message of the day; alone: clear it
      /say TEXT                             say TEXT to everyone (also when it starts with /)
      //TEXT                                say /TEXT to everyone
console-unknown = Unknown console command { $command }. Type /help for the list.
console-usage-kick = Usage: /kick NAME [REASON]
console-usage-ban = Usage: /ban NAME|ADDRESS[/PREFIX] [MINUTES] [REASON]
console-usage-unban = Usage: /unban NAME|ADDRESS
console-usage-mute = Usage: /mute NAME
console-usage-unmute = Usage: /unmute NAME
console-usage-say = Usage: /say TEXT
console-members = { $count ->
        [one] 1 member:
       *[other] { $count } members:
    }
console-member-row =   { $name }, from { $addr }, here for { $stayed }
console-row-muted = muted
console-kicked = Removed { $name } from the room.
console-banned = Banned { $target } { $how_long }; { $kicked ->
        [0] nobody here matched
        [one] 1 member removed
       *[other] { $kicked } members removed
    }.
console-unbanned = Lifted the ban on { $target }.
console-not-banned = { $target } is not banned.
console-bans = { $count ->
        [0] No bans.
        [one] 1 ban:
       *[other] { $count } bans:
    }
console-ban-row =   { $target }, { $how_long } { $reason }
console-loopback = { $target } is a loopback address: loopback addresses are never banned.
console-muted = Muted { $name }: they can read, not speak.
console-unmuted = Unmuted { $name }.
console-motd-set = The message of the day is set.
console-motd-cleared = The message of the day is cleared.
error-bans-line = the bans file { $path } is not valid at line { $line }: expected KIND<TAB>TARGET<TAB>UNTIL<TAB>REASON
error-bans-read = cannot read the bans file { $path }: { $reason }
log-bans-not-saved = could not save the bans to { $path }: { $reason }
