## chatroom：简体中文。消息 id 与 locales/en/chatroom.ftl 一一对应。
## 系统通知前的 "* " 由程序加上，这里的文字不要以它开头。
## 中文没有单复数之分，复数选择只写 *[other]。

## 成员看到的管理员名字；这个名字不能被用作昵称。
admin-name = 管理员

## 加入

greeting = 欢迎来到 chatroom 聊天室。
name-prompt = 请输入昵称（可用汉字、字母、数字及 _ - .），或输入 /help 查看帮助：
name-too-long = 昵称太长了，最多 { $max } 个字符。
name-bad-characters = 昵称只能包含汉字、字母、数字和 _ - .，不能有空格或其他符号。
name-taken = 昵称“{ $name }”已经有人用了，请换一个。
name-reserved = 昵称“{ $name }”是保留名称，请换一个。
join-first = 请先输入昵称：{ $command } 要在进入聊天室后才能使用。在此之前只能用 /help、/lang 和 /quit。
welcome = 欢迎你，{ $name }！聊天室里还有 { $others } 个人。输入 /help 查看所有命令。

## 聊天室动态

joined = { $name } 进入了聊天室，现在共有 { $count } 人。
left-quit = { $name } 离开了聊天室（待了 { $stayed }）。
left-lost = { $name } 连接中断，离开了聊天室（待了 { $stayed }）。
left-too-slow = { $name } 接收消息太慢，已被断开连接（待了 { $stayed }）。
left-flood = { $name } 持续刷屏，已被断开连接（待了 { $stayed }）。
chat-line = { $name }: { $text }
admin-line = { admin-name }: { $text }
private-line = （私信）{ $name }: { $text }

## 命令的回复

private-sent = 私信已发给 { $name }。
private-usage = 用法：/msg 昵称 内容（也可以写成 @昵称 内容）。
private-to-self = 这是你自己的昵称，私信要发给别人哦。
no-such-member = 聊天室里没有叫“{ $name }”的人。输入 /list 看看都有谁。
members = 当前共 { $count } 人：{ $names }
list-separator = 、
help =
    可用命令：
      /help               显示本帮助
      /list（/ls、/who）  查看聊天室里有谁
      /msg 昵称 内容      给某人发私信（也可以写成 @昵称 内容）
      /reply 内容（/r）   回复最近一个给你发私信的人
      /query 昵称         之后说的话都私下发给此人；单独输入 /query 结束
      /me 内容            发一个动作，别人看到的是“** 你的昵称 内容”
      /nick 新昵称        修改昵称
      /mute、/unmute      屏蔽或恢复聊天消息和动作（/i 切换）
      /ignore 昵称        不再接收此人的消息和私信；单独输入 /ignore 查看名单
      /unignore 昵称      恢复接收此人的消息
      /away [原因]        标记为暂时离开；回来后输入 /back
      /whois 昵称         查看此人的信息：在线时长、空闲时长、是否离开、语言
      /motd               查看今日公告
      /lang 语言          换一种语言阅读聊天室（en、zh-CN）
      /timestamps on|off  在聊天消息前显示或隐藏时间
      /quit               离开聊天室
      //内容              发送一条以 / 开头的消息
    其他内容都会发给聊天室里的所有人。
unknown-command = 没有 { $command } 这个命令。输入 /help 查看所有命令。
line-too-long = 你发的这行超过了 { $max } 字节，没有发出去。
bye = 再见！
too-slow = 你接收消息太慢，跟不上聊天室的进度，连接即将断开。
flood-held = 你发送得太快了。你的消息已被暂缓，稍后会按顺序发出。
flooded = 你持续发送过快，连接即将断开。
name-timeout = 你在 { $seconds } 秒内没有选择昵称，再见。
address-full = 来自你的地址的连接太多（最多 { $max } 个）。请关闭一个后再试。
room-full = 聊天室已满（{ $max } 个连接），请稍后再试。
room-closed = 管理员已关闭聊天室。

## 服务器控制台与日志（标准输出）

server-listening = chatroom 服务器正在监听 { $addr }
console-ready = 在这里输入的内容会以{ admin-name }的身份发给所有人；输入空行即关闭聊天室。
console-unavailable = 没有控制台：无法监视标准输入，聊天室会一直运行，直到收到 SIGINT 或 SIGTERM。
console-detached = 控制台输入已结束；聊天室继续运行，直到收到 SIGINT 或 SIGTERM。
log-connected = 连接 { $id } 来自 { $addr }。
log-closed = 来自 { $addr } 的连接 { $id } 已关闭。
log-signal = 收到信号 { $signal }。
log-accept-failed = 无法接受新连接：{ $reason }
log-private = { $from } 给 { $to } 发了一条私信。
log-broker-connected = 已连接到 { $addr } 上的消息代理（聊天室 { $room }）
log-broker-unreachable = 无法连接到 { $addr } 上的消息代理：{ $reason }；{ $seconds } 秒后重试
log-broker-lost = 与 { $addr } 上的消息代理的连接已断开：{ $reason }
log-broker-refused = { $addr } 上的消息代理拒绝了一条命令：{ $error }
log-room-joined = 已进入聊天室 { $room }：其他 { $servers } 台服务器上共有 { $members } 名成员
log-server-lost = 服务器 { $server } 没有按时续约：它的 { $count } 名成员已按断线处理
log-server-declared-lost = 其他服务器认为本服务器已失联（与消息代理断开超过 lease_secs）：本服务器的成员已全部断开

## 错误（显示在程序名之后）

error-bind = 无法监听 { $addr }：{ $reason }
error-resolve = 无法解析地址 { $addr }：{ $reason }
error-event-loop = 事件循环出错：{ $reason }
error-settings-read = 无法读取配置文件 { $path }：{ $reason }
error-settings-parse = 配置文件 { $path } 格式有误：{ $reason }
error-settings-value = 配置文件 { $path } 中 { $key } = { $value } 不可用：{ $allowed }
error-settings-unknown-key = 配置文件 { $path } 中没有 { $key } 这一项（这里可用的有：{ $known }）
allowed-languages = 可选语言为 { $list }
allowed-positive = 应为不小于 1 的整数
allowed-whole = 应为不小于 0 的整数（0 表示关闭）
allowed-port = 应为 0 到 65535 之间的端口号
allowed-host = 应为加引号的主机名或地址，例如 "127.0.0.1"
allowed-table = 应为一个表，例如 [server]
allowed-queue = 应为字节数，至少是 max_line_bytes 的两倍（{ $min }）

## I/O 错误的原因

reason-refused = 连接被拒绝
reason-reset = 连接被重置
reason-closed = 对方关闭了连接
reason-garbled = 对方发来了本程序无法识别的数据
reason-timeout = 等待超时
reason-in-use = 地址已被占用
reason-not-available = 本机没有这个地址
reason-permission = 权限不足
reason-not-found = 找不到
reason-unknown-host = 找不到这个主机
reason-unreachable = 网络或主机不可达

## 客户端

client-connected = 已连接到 { $host }:{ $port }。直接按回车（空行）即可离开。
client-connect-failed = 无法连接到 { $host }:{ $port }：{ $reason }。服务器是否已经启动？可以用 --host 和 --port 指定其他服务器。
client-resolve-failed = 找不到主机 { $host }：{ $reason }。请检查主机名，或者试试 --host 127.0.0.1。
client-goodbye = 你已离开聊天室，再见！
client-server-closed = 服务器关闭了连接。
client-connection-lost = 与服务器的连接中断了：{ $reason }

## chatroom-bench

bench-error-no-server = 在本程序旁边找不到 chatroom-server（{ $reason }）；请用 --server PATH 指定。
bench-error-resolve = 无法解析地址 { $addr }：{ $reason }
bench-error-not-loopback = { $addr } 不在本机：chatroom-bench 只测量回环地址（127.0.0.1 或 ::1）上的服务器。
bench-error-members = 此场景至少需要 { $min } 个会读取和发言的成员（--members { $members }，--stalled { $stalled }）。
bench-error-lines = --lines 必须至少为 1。
bench-error-rate = --rate 和 --duration 至少要产生一行。
bench-error-size = --size 必须在 { $min } 到 { $max } 字节之间：每行要携带发送者、序号和发送时间。
bench-error-seconds = { $value } 不是有效的秒数。
bench-error-too-big = 跟踪本次运行的每次投递需要 { $mib } MiB（上限 { $limit } MiB）；请减少成员或行数。
bench-error-temp-file = 无法把服务器设置写入 { $path }：{ $reason }
bench-error-spawn = 无法启动服务器 { $path }：{ $reason }
bench-error-server-exited = 服务器 { $path } 在开始监听之前就退出了（{ $status }）。
bench-error-server-silent = 服务器 { $path } 在 { $secs } 秒内没有报告监听地址。
bench-error-connect = 无法连接到 { $addr }：{ $reason }
bench-error-join = { $secs } 秒内 { $members } 个成员中只有 { $joined } 个加入（{ $failed } 个连接失败）。
bench-error-io = 事件循环出错：{ $reason }
bench-note-settle = 加入通知停在 { $got } / { $expected }；仍继续测量。
bench-phase-join = 加入中
bench-phase-settle = 等待通知
bench-phase-send = 发送中
bench-phase-drain = 接收剩余
bench-phase-check = 检查不读取的成员
bench-progress-join = { $phase }（{ $secs } 秒）：已加入 { $joined }/{ $members }，收到加入通知 { $notices } 条
bench-progress-chat = { $phase }（{ $secs } 秒）：已发送 { $sent }/{ $lines } 行，已送达 { $delivered }/{ $expected }
bench-report-title = chatroom-bench：{ $scenario }，{ $members } 个成员，服务器 { $addr }（进程 { $pid }）
bench-row-joined = 已加入成员
bench-row-join-time = 全部加入用时（秒）
bench-row-announced = 收到 / 应收加入通知
bench-row-announce-time = 每次加入通知到所有人的用时（秒）
bench-row-server-cpu-joining = 加入期间服务器 CPU（秒）
bench-row-bench-cpu-joining = 加入期间本工具 CPU（秒）
bench-row-sent = 已发送聊天行
bench-row-expected = 应投递
bench-row-delivered = 已送达
bench-row-lost = 丢失
bench-row-duplicated = 重复
bench-row-out-of-order = 乱序
bench-row-garbled = 损坏
bench-row-foreign = 其他行（非本工具发送）
bench-row-disconnected = 被断开的发言成员
bench-row-dropped = 被服务器断开的成员（发言和不读取的）
bench-row-too-slow-announced = 被通知因太慢断开的成员
bench-row-stalled = 看到连接结束的不读取成员
bench-row-stalled-announced = 被通知已离开的不读取成员
bench-row-stalled-backlog = 结束时不读取成员的积压（KiB，平均）
bench-row-later-notices = 发送期间及之后收到的通知
bench-row-window = 首次发送到最后送达（秒）
bench-row-rate = 每秒投递数
bench-row-latency = 延迟 p50 / p99 / p99.9 / 最大（毫秒）
bench-row-server-cpu = 发送和接收期间服务器 CPU（秒）
bench-row-cpu-per-delivery = 每次投递的服务器 CPU（微秒）
bench-row-peak-rss = 服务器内存峰值（MiB）
bench-row-rss-empty = 空房间时服务器内存（MiB）
bench-row-rss-joined = 全部加入后服务器内存（MiB）
bench-row-rss-per-member = 每个成员的服务器内存（KiB）
bench-row-bench-cpu = 发送和接收期间本工具 CPU（秒）
bench-unknown = 无
bench-verdict-ok = 通过：每行都恰好送达一次，顺序正确且完整。
bench-verdict-failed = 失败：有行丢失、重复、乱序或损坏。

## client terminal

allowed-bell = 应为 "mentions"、"all" 或 "off"
client-still-waiting = 仍在等待 { $server } 的回应。对方真的是 chatroom 服务器吗？
console-prompt = 以{ admin-name }身份发给所有人（空行关闭聊天室）

## settings and log

error-settings-not-file = { $path } 不是普通文件：设置只从不超过 { $max } 字节的文件读取。
error-settings-too-big = 设置文件 { $path } 超过 { $max } 字节：是不是选错了文件？
log-dropped = 标准输出跟不上，丢弃了 { $count } 行日志。
error-settings-parse-at = 配置文件 { $path } 第 { $line } 行第 { $column } 列格式有误：{ $reason }
error-settings-value-at = 配置文件 { $path } 第 { $line } 行第 { $column } 列：{ $key } = { $value } 不可用：{ $allowed }
error-settings-unknown-key-at = 配置文件 { $path } 第 { $line } 行第 { $column } 列：没有 { $key } 这一项（这里可用的有：{ $known }）
allowed-at-least = 应为不小于 { $min } 的整数
allowed-seconds = 应为 0 到 { $max } 之间的整数秒数（0 表示关闭）
allowed-bool = 应为 true 或 false，不加引号
allowed-text = 应为加引号的单行文字，不含控制字符
allowed-path = 应为加引号的文件路径，或用 "" 表示不设
allowed-redis-url = 用引号括起来的 "redis://主机:端口"（不支持密码和数据库编号），或用 "" 表示单机服务器
allowed-room-name = 用引号括起来的名字，由 1 到 64 个字母、数字、"-"、"_" 或 "." 组成
allowed-lease-seconds = 1 到 { $max } 之间的整秒数
allowed-choice = 应为加引号的 { $list } 之一

## member commands

action-line = ** { $name } { $text }
renamed = { $old } 改名为 { $new }。
nick-set = 你的昵称已改为 { $name }。
usage-nick = 用法：/nick 新昵称
usage-me = 用法：/me 内容（别人看到的是“** 你的昵称 内容”）。
usage-reply = 用法：/reply 内容（或 /r 内容），回复最近一个给你发私信的人。
usage-query = 用法：/query 昵称，之后说的话都私下发给此人；单独输入 /query 结束。
usage-unignore = 用法：/unignore 昵称
usage-whois = 用法：/whois 昵称
usage-timestamps = 用法：/timestamps on 或 /timestamps off。
no-one-to-reply = 还没有人给你发过私信（或者对方已经离开）。可以用 /msg 昵称 内容 发私信。
query-started = 接下来你说的话只会私下发给 { $name }。单独输入 /query 即可回到聊天室。
query-ended = 你和 { $name } 的私聊已结束，之后说的话会发到聊天室。
query-renamed = { $old } 改名为 { $new }，你们的私聊继续。
query-partner-left = { $name } 已离开，私聊结束，之后说的话会发到聊天室。
muted-room = 你已屏蔽聊天室：不会再收到聊天消息和动作，但私信和系统通知照常。输入 /unmute（或 /i）取消屏蔽。
unmuted-room = 你已取消屏蔽，聊天消息和动作会照常显示。
still-muted = 没有发出：你屏蔽了聊天室。输入 /unmute（或 /i）取消屏蔽后再发言。
ignore-self = 你不能屏蔽自己。
ignoring = 你已屏蔽 { $name }：不会再收到此人的消息、动作和私信。输入 /unignore { $name } 可以取消。
unignored = 你已取消屏蔽 { $name }。
not-ignoring = 你并没有屏蔽 { $name }。
ignore-list = { $count ->
        [0] 你没有屏蔽任何人。
       *[other] 你屏蔽了 { $count } 个人：{ $names }
    }
away-set = 你已标记为暂时离开。回来后输入 /back。
away-set-reason = 你已标记为暂时离开（{ $reason }）。回来后输入 /back。
back = 欢迎回来，你已不再是离开状态。
peer-away = { $name } 暂时离开：{ $reason }
peer-away-no-reason = { $name } 暂时离开了。
list-away = { $name }（离开：{ $reason }）
list-away-no-reason = { $name }（离开）
whois = { $name } 已在聊天室待了 { $in_room }，空闲了 { $idle }，使用的语言是{ $language }。
whois-here = { $name } 没有离开，正在聊天室里。
motd = 今日公告：{ $text }
no-motd = 今天没有公告。
lang-set = 从现在起，你将以简体中文阅读本聊天室。
lang-unknown = 没有 { $asked } 这种语言。可选的语言有 { $list }，例如输入 /lang en。
lang-usage = 用法：/lang 语言，可选的语言有 { $list }。
language-name = { $tag ->
        [en] English
        [zh-CN] 简体中文
       *[other] { $tag }
    }
timestamps-on = 之后的聊天消息前会显示时间，格式为 [时:分]。
timestamps-off = 之后的聊天消息前不再显示时间。
history = 以下是聊天室里最近的 { $count } 条消息：
duration-seconds = { $n } 秒
duration-minutes = { $n } 分钟
duration-hours = { $hours } 小时
duration-hours-minutes = { $hours } 小时 { $minutes } 分钟
bench-error-mix = --mix 只能用于 burst 和 idle 场景：只有在这两种场景里，每个成员都接收消息并发送同样多的行，才能算出屏蔽和忽略去掉了多少投递。
bench-row-skipped = 因屏蔽和忽略而不投递的数量（--mix）
bench-error-pids = 给了 { $pids } 个进程号（--pid），但只有 { $servers } 个服务器（--addr）：每个服务器最多一个。
bench-error-server-not-joined = 服务器 { $path } 在 { $secs } 秒内没有加入它的桥接聊天室；它的最后一行：{ $line }
bench-error-server-exited-joining = 服务器 { $path } 在加入桥接聊天室之前就退出了（{ $status }）；它的最后一行：{ $line }
bench-error-broker-spawn = 无法启动消息代理 { $path }：{ $reason }；请安装 redis-server，或用 --redis-server PATH 指定。
bench-error-broker-failed = 消息代理 { $path } 试了 { $tries } 次都没能在空闲端口上启动；它日志的最后一行：{ $line }
bench-report-title-bridged = chatroom-bench：{ $scenario }，{ $members } 个成员分布在同一桥接聊天室的 { $servers } 个服务器上（{ $addrs }；进程 { $pids }；消息代理 { $broker }）
bench-row-broker-cpu = 发送和接收期间消息代理 CPU（秒）
bench-row-broker-peak-rss = 消息代理内存峰值（MiB）

## operator console

left-kicked = { $name } 被管理员移出了聊天室（待了 { $stayed }）。
left-kicked-reason = { $name } 被管理员移出了聊天室（待了 { $stayed }），原因：{ $reason }
left-banned = { $name } 被管理员封禁，离开了聊天室（待了 { $stayed }）。
kicked-you = 你被管理员移出了聊天室。
kicked-you-reason = 你被管理员移出了聊天室，原因：{ $reason }
banned-you = 你已被管理员封禁，{ $how_long }。
banned-you-reason = 你已被管理员封禁，{ $how_long }，原因：{ $reason }
silenced-you = 你已被管理员禁言：仍可以看到聊天内容，但不能发言。
unsilenced-you = 管理员已解除你的禁言，你可以发言了。
silenced = 未发送：你已被管理员禁言。
broker-down = 暂时无法连接聊天室的其他服务器；恢复连接之前，你发送的内容不会被发出。
broker-back = 与聊天室其他服务器的连接已恢复。
cut-off = 本服务器与聊天室的其他服务器失联太久，你已被移出聊天室。请重新连接后再加入。
not-sent = 未发送：暂时无法连接聊天室的其他服务器，请稍后再试。
name-banned = 昵称 { $name } 已被封禁，{ $how_long }。请换一个。
address-banned = 你的地址已被本聊天室封禁，{ $how_long }。
ban-minutes = 还剩 { $n } 分钟
ban-forever = 直到管理员解封为止
console-help =
    控制台命令（不以 / 开头的行发给所有人；空行关闭聊天室）：
      /help                                 显示本帮助
      /list                                 成员、地址、在线时长、离开状态、是否被禁言
      /kick 昵称 [原因]                      把成员移出聊天室
      /ban 昵称|地址[/前缀] [分钟] [原因]
                                            封禁昵称（连同其地址）或地址段；不写分钟则直到解封
      /unban 昵称|地址                       解除封禁
      /bans                                 当前生效的封禁
      /mute 昵称，/unmute 昵称               禁止或允许某成员发言
      /motd [内容]                           设置今日公告；不带内容则清除
      /say 内容                              把内容发给所有人（内容以 / 开头时也可以）
      //内容                                 把“/内容”发给所有人
console-unknown = 未知的控制台命令 { $command }。输入 /help 查看命令列表。
console-usage-kick = 用法：/kick 昵称 [原因]
console-usage-ban = 用法：/ban 昵称|地址[/前缀] [分钟] [原因]
console-usage-unban = 用法：/unban 昵称|地址
console-usage-mute = 用法：/mute 昵称
console-usage-unmute = 用法：/unmute 昵称
console-usage-say = 用法：/say 内容
console-members = 共 { $count } 位成员：
console-member-row =   { $name }，来自 { $addr }，已在线 { $stayed }
console-row-muted = 已禁言
console-kicked = 已将 { $name } 移出聊天室。
console-banned = 已封禁 { $target }，{ $how_long }；{ $kicked ->
        [0] 当前没有匹配的成员
       *[other] 移出了 { $kicked } 位成员
    }。
console-unbanned = 已解除对 { $target } 的封禁。
console-not-banned = { $target } 没有被封禁。
console-bans = { $count ->
        [0] 当前没有封禁。
       *[other] 共 { $count } 条封禁：
    }
console-ban-row =   { $target }，{ $how_long } { $reason }
console-loopback = { $target } 是本机回环地址：回环地址永远不会被封禁。
console-muted = 已禁言 { $name }：对方仍能看到聊天，但不能发言。
console-unmuted = 已解除 { $name } 的禁言。
console-motd-set = 今日公告已设置。
console-motd-cleared = 今日公告已清除。
error-bans-line = 封禁文件 { $path } 第 { $line } 行格式不正确：应为 类型<TAB>目标<TAB>截止时间<TAB>原因
error-bans-read = 无法读取封禁文件 { $path }：{ $reason }
log-bans-not-saved = 无法把封禁列表保存到 { $path }：{ $reason }
