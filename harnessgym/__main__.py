from harnessgym._entry import main

main()
